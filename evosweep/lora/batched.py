"""Batched multi-LoRA forward: every row of a batch applies its own member's A, B.

Rows are laid out member-major: a batch of ``p * n`` rows holds ``n`` prompts
for each of ``p`` members. A wrapped layer computes
``base(x) + scale * (x @ A_m^T) @ B_m^T`` for all members at once with two
batched matmuls over the member axis, so P members cost one forward pass of
the frozen model plus the small LoRA FLOPs.

Sibling layers that read the same input (q/k/v projections) share one
:class:`SharedInput`: the first of them computes ``x @ A^T`` for all of them
in one matmul, the others reuse it. The ``B`` product is added in place to
the base output (``baddbmm_``) unless autograd is recording.

``model.lora.dropout`` drops input features before ``A`` inside
``members(..., train=True)`` (the pg/sft trainers' forward), as peft does in
training mode; evaluation is deterministic. Siblings share one dropout mask.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from evosweep.lora.layout import LoraLayout, LoraSlot

# Leaf names of modules that one parent feeds with the same tensor.
SHARED_INPUT_SIBLINGS = (("q_proj", "k_proj", "v_proj"), ("gate_proj", "up_proj"))


class SharedInput:
    """The low-rank product ``x @ A^T`` of one or more layers fed the same ``x``.

    Computed once per input tensor (identity check), reused by each sibling, and
    dropped once every sibling has read it, so no activation outlives its layer.
    """

    def __init__(self, size: int, dropout: float = 0.0) -> None:
        self.size = size  # number of sibling layers reading this input
        self.dropout = dropout
        self.train = False  # dropout only while a trainer's forward runs
        self.a_t: torch.Tensor | None = None  # (p, in, R): all siblings' A, transposed view
        self._x: torch.Tensor | None = None
        self._low: torch.Tensor | None = None
        self._reads_left = 0

    def set_members(self, a_blocks: list[torch.Tensor]) -> None:
        """Each sibling's ``A`` as ``(p, r, in)``, in sibling order."""
        self.a_t = torch.cat(a_blocks, dim=1).transpose(1, 2)  # (p, in, R) over a contiguous copy
        self.clear_cache()

    def clear_cache(self) -> None:
        self._x = self._low = None
        self._reads_left = 0

    def low_rank(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (p*n, T, in) -> ``(p, n*T, R)``."""
        if self.a_t is None:
            raise RuntimeError("low_rank() outside BatchedLora.members(): no members are set")
        if x is not self._x:
            members = self.a_t.shape[0]
            if x.shape[0] % members:
                raise ValueError(f"{x.shape[0]} rows do not split into {members} members")
            grouped = x.reshape(members, -1, x.shape[-1])  # (p, n*T, in), a view
            if self.train and self.dropout > 0:
                grouped = nn.functional.dropout(grouped, p=self.dropout, training=True)
            self._low = torch.bmm(grouped, self.a_t)  # (p, n*T, R)
            self._x, self._reads_left = x, self.size
        low = self._low
        assert low is not None  # computed above for this x
        self._reads_left -= 1
        if self._reads_left == 0:
            self.clear_cache()
        return low


class BatchedLoraLayer(nn.Module):
    """A frozen Linear/Conv1D plus per-member LoRA matrices (set per chunk)."""

    def __init__(self, base: nn.Module, slot: LoraSlot, scaling: float, source: SharedInput,
                 columns: slice) -> None:
        super().__init__()
        self.base = base
        self.slot = slot
        self.scaling = scaling
        self.source = source  # computes this layer's x @ A^T (maybe with its siblings')
        self.columns = columns  # this layer's rank columns inside the source's product
        self.lora_b_t: torch.Tensor | None = None  # (p, r, out), contiguous, already scaled

    def set_members(self, b: torch.Tensor) -> None:
        """Load the chunk's ``B`` as ``(p, out, r)``; ``A`` lives in :attr:`source`."""
        self.lora_b_t = b.transpose(1, 2).clone(memory_format=torch.contiguous_format)
        self.lora_b_t.mul_(self.scaling)

    def clear(self) -> None:
        self.lora_b_t = None
        self.source.a_t = None
        self.source.train = False
        self.source.clear_cache()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base(x)
        if self.lora_b_t is None:
            return out
        low = self.source.low_rank(x)[..., self.columns]  # (p, n*T, r)
        grouped = out.view(low.shape[0], -1, out.shape[-1])  # (p, n*T, out)
        if torch.is_grad_enabled():
            return torch.baddbmm(grouped, low, self.lora_b_t).view_as(out)
        grouped.baddbmm_(low, self.lora_b_t)
        return out


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


def _sibling_groups(slots: list[LoraSlot]) -> list[list[LoraSlot]]:
    """Slots that read the same input (see SHARED_INPUT_SIBLINGS); every other slot alone."""
    groups: dict[tuple, list[LoraSlot]] = {}
    for slot in slots:
        parent, _, leaf = slot.module_name.rpartition(".")
        family = next((i for i, names in enumerate(SHARED_INPUT_SIBLINGS) if leaf in names), None)
        key = (parent, family, slot.in_features) if family is not None else (slot.module_name,)
        groups.setdefault(key, []).append(slot)
    return list(groups.values())


class BatchedLora:
    """Wraps the layout's target modules of ``model`` in :class:`BatchedLoraLayer`.

    The model keeps working as the plain base model while no members are set.
    """

    def __init__(self, model: nn.Module, layout: LoraLayout) -> None:
        self.model = model
        self.layout = layout
        self.layers: list[BatchedLoraLayer] = []
        self.groups: list[tuple[SharedInput, list[BatchedLoraLayer]]] = []
        for slots in _sibling_groups(layout.slots):
            source, members, start = SharedInput(len(slots), layout.settings.dropout), [], 0
            for slot in slots:
                base = model.get_submodule(slot.module_name)
                if isinstance(base, BatchedLoraLayer):
                    raise ValueError(f"{slot.module_name} already carries a batched LoRA layer")
                columns = slice(start, start + slot.rank)
                layer = BatchedLoraLayer(base, slot, layout.settings.scaling, source, columns)
                _set_submodule(model, slot.module_name, layer)
                members.append(layer)
                start += slot.rank
            self.groups.append((source, members))
            self.layers.extend(members)

    @contextmanager
    def members(self, flat: torch.Tensor, train: bool = False) -> Iterator[None]:
        """Within the block, row ``i`` of a batch uses member ``i // (rows / p)``.

        ``train=True`` applies ``model.lora.dropout`` (a trainer's forward pass).
        """
        weight = next(self.model.parameters())
        flat = flat.to(device=weight.device, dtype=weight.dtype)  # (p, D)
        for source, layers in self.groups:
            blocks = [self.layout.split(flat, layer.slot) for layer in layers]
            source.set_members([a for a, _ in blocks])
            source.train = train
            for layer, (_, b) in zip(layers, blocks, strict=True):
                layer.set_members(b)
        try:
            yield
        finally:
            for layer in self.layers:
                layer.clear()

    def detach(self) -> None:
        """Put the original modules back."""
        for layer in self.layers:
            _set_submodule(self.model, layer.slot.module_name, layer.base)
        self.layers = []
        self.groups = []
