"""Crossover: ``crossover(first (C, D), second (C, D), generator) -> children (C, D)``.

With probability ``1 - rate`` a child is a plain copy of its first parent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import torch

from evosweep.settings.checks import require_unit_interval

if TYPE_CHECKING:
    from evosweep.lora.layout import LoraLayout


class Crossover(Protocol):
    """``operators.crossover``: children ``(C, D)`` from two parent batches ``(C, D)``."""

    def __call__(self, first: torch.Tensor, second: torch.Tensor,
                 generator: torch.Generator) -> torch.Tensor: ...


@runtime_checkable
class NeedsLayout(Protocol):
    """A crossover that cuts members along the LoRA matrices: it learns them from the layout."""

    def bind(self, layout: LoraLayout) -> None:
        """Learn where each LoRA matrix lies in the flat ``(D,)`` member."""


def bind_layout(crossover: object, layout: LoraLayout | None) -> None:
    """Give ``crossover`` the run's layout if it needs one (:class:`NeedsLayout`); others ignore it."""
    if isinstance(crossover, NeedsLayout):
        if layout is None:
            raise ValueError(f"{type(crossover).__name__} cuts along the LoRA matrices: no layout given")
        crossover.bind(layout)


def _crossed_rows(children: int, rate: float, generator: torch.Generator) -> torch.Tensor:
    """Which children are crossed at all: ``(C, 1)`` booleans."""
    return torch.rand(children, 1, generator=generator) < rate


class UniformCrossover:
    """Each coordinate comes from either parent with probability 1/2 (the original design)."""

    def __init__(self, rate: float = 1.0) -> None:
        require_unit_interval("operators.crossover.rate", rate)
        self.rate = rate

    def __call__(
        self, first: torch.Tensor, second: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        mask = torch.rand(first.shape, generator=generator) < 0.5  # (C, D)
        crossed = _crossed_rows(first.shape[0], self.rate, generator)  # (C, 1)
        return torch.where(mask & crossed, second, first)


class ArithmeticCrossover:
    """Blend: ``child = w * first + (1 - w) * second``.

    ``weight`` null draws ``w ~ U(0, 1)`` per child; a number fixes it (0.5 = midpoint).
    """

    def __init__(self, rate: float = 1.0, weight: float | None = None) -> None:
        require_unit_interval("operators.crossover.rate", rate)
        if weight is not None:
            require_unit_interval("operators.crossover.weight", weight)
        self.rate = rate
        self.weight = weight

    def __call__(
        self, first: torch.Tensor, second: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        children = first.shape[0]
        if self.weight is None:
            weight = torch.rand(children, 1, generator=generator)  # (C, 1)
        else:
            weight = torch.full((children, 1), float(self.weight))
        crossed = _crossed_rows(children, self.rate, generator)  # (C, 1)
        weight = torch.where(crossed, weight, torch.ones_like(weight))
        return weight * first + (1 - weight) * second


class PerModuleCrossover:
    """Whole LoRA matrices from either parent with probability 1/2.

    With ``keep_pairs`` a module's A and B travel together, so each child
    module's update ``B @ A`` is exactly one parent's; without it A and B are
    swapped independently. The run binds the model's layout with :meth:`bind`.
    """

    def __init__(self, rate: float = 1.0, keep_pairs: bool = True) -> None:
        require_unit_interval("operators.crossover.rate", rate)
        self.rate = rate
        self.keep_pairs = keep_pairs
        self.segment_of: torch.Tensor | None = None  # (D,) segment index of each coordinate
        self.segments = 0

    def bind(self, layout: LoraLayout) -> None:
        """Learn the matrix spans from a :class:`~evosweep.lora.layout.LoraLayout`."""
        bounds = layout.module_boundaries()  # [(start, end)], A then B of each module
        segment_of = torch.empty(layout.dim, dtype=torch.long)
        for index, (start, end) in enumerate(bounds):
            segment_of[start:end] = index // 2 if self.keep_pairs else index
        self.segment_of = segment_of
        self.segments = (len(bounds) + 1) // 2 if self.keep_pairs else len(bounds)

    def __call__(
        self, first: torch.Tensor, second: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        if self.segment_of is None or self.segment_of.numel() != first.shape[1]:
            raise RuntimeError("PerModuleCrossover.bind(layout) must be called with the run's layout")
        children = first.shape[0]
        pick = torch.rand(children, self.segments, generator=generator) < 0.5  # (C, S)
        crossed = _crossed_rows(children, self.rate, generator)  # (C, 1)
        mask = (pick & crossed)[:, self.segment_of]  # (C, D)
        return torch.where(mask, second, first)


class NoCrossover:
    """Children are copies of their first parent (mutation-only evolution).

    ``rate`` is accepted and ignored, so a sweep over crossover kinds can also
    set ``operators.crossover.rate`` on every option.
    """

    def __init__(self, rate: float = 0.0) -> None:
        self.rate = 0.0

    def __call__(
        self, first: torch.Tensor, second: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        return first.clone()
