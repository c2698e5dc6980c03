"""Batched multi-LoRA forward: every row of a batch applies its own member's A, B.

Rows are laid out member-major: a batch of ``p * n`` rows holds ``n`` prompts
for each of ``p`` members. A wrapped layer computes
``base(x) + scale * (x @ A_m^T) @ B_m^T`` for all members at once with two
batched matmuls over the member axis, so P members cost one forward pass of
the frozen model plus the small LoRA FLOPs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from evosweep.population import LoraLayout, LoraSlot


class BatchedLoraLayer(nn.Module):
    """A frozen Linear/Conv1D plus per-member LoRA matrices (set per chunk)."""

    def __init__(self, base: nn.Module, slot: LoraSlot, scaling: float) -> None:
        super().__init__()
        self.base = base
        self.slot = slot
        self.scaling = scaling
        self.lora_a_t: torch.Tensor | None = None  # (p, in, r)
        self.lora_b_t: torch.Tensor | None = None  # (p, r, out), already scaled

    def set_members(self, a: torch.Tensor, b: torch.Tensor) -> None:
        """Load the chunk's members: ``a`` (p, r, in), ``b`` (p, out, r)."""
        self.lora_a_t = a.transpose(1, 2)
        self.lora_b_t = (b * self.scaling).transpose(1, 2)

    def clear(self) -> None:
        self.lora_a_t = None
        self.lora_b_t = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base(x)
        if self.lora_a_t is None:
            return out
        members = self.lora_a_t.shape[0]
        rows = x.shape[0]
        grouped = x.reshape(members, -1, x.shape[-1])  # (p, n*T, in)
        low = torch.bmm(grouped.to(self.lora_a_t.dtype), self.lora_a_t)  # (p, n*T, r)
        delta = torch.bmm(low, self.lora_b_t)  # (p, n*T, out)
        return out + delta.reshape(rows, *out.shape[1:]).to(out.dtype)


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


class BatchedLora:
    """Wraps the layout's target modules of ``model`` in :class:`BatchedLoraLayer`.

    The model keeps working as the plain base model while no members are set.
    """

    def __init__(self, model: nn.Module, layout: LoraLayout) -> None:
        self.model = model
        self.layout = layout
        self.layers: list[BatchedLoraLayer] = []
        for slot in layout.slots:
            base = model.get_submodule(slot.module_name)
            if isinstance(base, BatchedLoraLayer):
                raise ValueError(f"{slot.module_name} already carries a batched LoRA layer")
            layer = BatchedLoraLayer(base, slot, layout.settings.scaling)
            _set_submodule(model, slot.module_name, layer)
            self.layers.append(layer)

    @contextmanager
    def members(self, flat: torch.Tensor) -> Iterator[None]:
        """Within the block, row ``i`` of a batch uses member ``i // (rows / p)``."""
        weight = next(self.model.parameters())
        flat = flat.to(device=weight.device, dtype=weight.dtype)
        for layer in self.layers:
            a, b = self.layout.split(flat, layer.slot)
            layer.set_members(a, b)
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
