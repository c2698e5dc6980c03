"""Train-pair indices drawn in shuffled epochs: every index once an epoch, never twice in one draw.

Each epoch is a fresh permutation of ``0..n-1`` from the caller's generator,
drawn from its end. A draw that spans an epoch boundary takes what is left of
the old epoch, then the new epoch's indices in order, passing over the ones
already in the draw: those stay first in line for the next draw. So a draw
never holds an index twice, and over K epochs (K * n indices drawn) every
index is drawn exactly K times. A draw whose indices do not meet an already
drawn one (any draw that does not span a boundary) is plain epoch shuffling.
"""

from __future__ import annotations

from typing import Any

import torch


class EpochSampler:
    """Draws ``count <= n`` distinct indices at a time from shuffled epochs of ``range(n)``."""

    def __init__(self, n: int, generator: torch.Generator) -> None:
        self.n = n
        self.generator = generator
        self.order: list[int] = []  # the rest of this epoch, next index last

    def draw(self, count: int) -> list[int]:
        """The next ``count`` indices, all different (``count`` at most ``n``)."""
        if not 0 <= count <= self.n:
            raise ValueError(f"cannot draw {count} different indices out of {self.n}")
        chosen: list[int] = []
        passed: list[int] = []  # new-epoch indices already in this draw
        while len(chosen) < count:
            if not self.order:
                self.order = torch.randperm(self.n, generator=self.generator).tolist()
            index = self.order.pop()
            (passed if index in chosen else chosen).append(index)
        self.order.extend(reversed(passed))  # first in line again, in their order
        return chosen

    def state_dict(self) -> dict[str, Any]:
        """The rest of the current epoch (the generator is the caller's to save)."""
        return {"order": list(self.order)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put back what :meth:`state_dict` returned."""
        self.order = list(state["order"])
