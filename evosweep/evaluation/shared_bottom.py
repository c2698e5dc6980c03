"""Decoder layers below the first adapter run once for all members (``model.lora.layers``).

Every member shares the frozen base model, so below the first decoder layer that
carries an adapter all members compute exactly the same activations for the same
prompt. Inside :meth:`SharedBottom.shared` a batch of ``p * u`` member-major rows
(``u`` rows per member, the same ``u`` rows for every member) runs the bottom
layers on the first member's ``u`` rows only; the last bottom layer hands
``p * u`` rows (its output repeated per member) to the adapted layers above.

The bottom layers' key/value cache then holds ``u`` rows. The likelihood pass
ends there; generation calls :meth:`SharedBottom.expand_cache` after its shared
prefill, since decoding rows differ per member and run every layer on every row.
Hooks do the work, so the model's module tree (and peft's names) stay unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from evosweep.lora.layout import LoraLayout


class SharedBottom:
    """The frozen decoder layers ``[0, first_adapted)`` of a model, shared across members."""

    def __init__(self, layers: list[nn.Module]) -> None:
        if not layers:
            raise ValueError("a shared bottom needs at least one frozen decoder layer")
        self.layers = layers
        self.members = 1  # > 1 only inside shared()
        self._rows = 0  # p * u: the batch size the bottom was entered with
        self._handles = [layer.register_forward_pre_hook(self._compact, with_kwargs=True)
                         for layer in layers]
        self._handles.append(layers[-1].register_forward_hook(self._expand, with_kwargs=True))

    @classmethod
    def for_layout(cls, layout: LoraLayout) -> SharedBottom | None:
        """The bottom below ``layout``'s first adapted layer; None when layer 0 is adapted."""
        first = layout.first_adapted_layer
        if layout.stack is None or first == 0:
            return None
        return cls(list(layout.stack.layers)[:first])

    @property
    def depth(self) -> int:
        """How many decoder layers are shared."""
        return len(self.layers)

    @contextmanager
    def shared(self, members: int) -> Iterator[None]:
        """Within the block, forward passes have ``members`` identical member-major row groups."""
        self.members, self._rows = members, 0
        try:
            yield
        finally:
            self.members, self._rows = 1, 0

    def _compact(self, module: nn.Module, args: tuple, kwargs: dict[str, Any]):
        if self.members <= 1:
            return None
        hidden = args[0] if args else kwargs["hidden_states"]
        if module is self.layers[0]:
            if hidden.shape[0] % self.members:
                raise ValueError(f"{hidden.shape[0]} rows do not split into {self.members} members")
            self._rows = hidden.shape[0]
        unique = self._rows // self.members
        return (tuple(_rows_of(value, self._rows, unique) for value in args),
                {key: _rows_of(value, self._rows, unique) for key, value in kwargs.items()})

    def _expand(self, _module: nn.Module, _args: tuple, _kwargs: dict[str, Any], output):
        if self.members <= 1:
            return None
        if isinstance(output, tuple):
            return (_repeat_rows(output[0], self.members), *output[1:])
        return _repeat_rows(output, self.members)

    def expand_cache(self, cache, members: int) -> None:
        """Repeat the bottom layers' cache rows per member (``u`` -> ``p * u``), member-major."""
        if cache is None or members <= 1:
            return
        for index in range(min(self.depth, len(cache.layers))):
            layer = cache.layers[index]
            if layer.get_seq_length() > 0:
                layer.keys = _repeat_rows(layer.keys, members)
                layer.values = _repeat_rows(layer.values, members)

    def remove(self) -> None:
        """Take the hooks off the model."""
        for handle in self._handles:
            handle.remove()
        self._handles = []


def _repeat_rows(tensor: torch.Tensor, members: int) -> torch.Tensor:
    return tensor.repeat(members, *([1] * (tensor.dim() - 1)))  # (u, ...) -> (p*u, ...)


def _rows_of(value: Any, rows: int, unique: int) -> Any:
    """The first member's ``unique`` rows of a per-row tensor (or a tuple of them); others as is."""
    if isinstance(value, tuple):
        return tuple(_rows_of(item, rows, unique) for item in value)
    if isinstance(value, torch.Tensor) and value.dim() >= 2 and value.shape[0] == rows:
        return value[:unique]
    return value
