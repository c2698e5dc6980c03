"""Genetic operators, vectorised over the population's ``(P, D)`` tensor.

Selection picks parent indices from fitness; crossover mixes two parent
batches; mutation adds noise. Every operator draws from the generator it is
given, so a seeded run repeats bit for bit.
"""

from __future__ import annotations

import torch

from evosweep.config_checks import require_positive, require_unit_interval


def _finite(fitness: torch.Tensor) -> torch.Tensor:
    """NaN fitness (a failed member) ranks below every real value."""
    return torch.nan_to_num(fitness, nan=float("-inf"))


class TruncationSelection:
    """Parents drawn uniformly from the ``top`` best members (the original design: top 2)."""

    def __init__(self, top: int = 2) -> None:
        require_positive("operators.selection.top", top)
        self.top = top

    def __call__(self, fitness: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
        order = torch.argsort(_finite(fitness), descending=True, stable=True)
        pool = order[: min(self.top, fitness.numel())]
        return pool[torch.randint(pool.numel(), (count,), generator=generator)]


class UniformCrossover:
    """Each coordinate comes from either parent with probability 1/2 (the original design).

    With probability ``1 - rate`` a child is a plain copy of its first parent.
    """

    def __init__(self, rate: float = 1.0) -> None:
        require_unit_interval("operators.crossover.rate", rate)
        self.rate = rate

    def __call__(
        self, first: torch.Tensor, second: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        mask = torch.rand(first.shape, generator=generator) < 0.5  # (C, D)
        crossed = torch.rand(first.shape[0], 1, generator=generator) < self.rate  # (C, 1)
        return torch.where(mask & crossed, second, first)


class GaussianMutation:
    """Adds N(0, scale^2) noise to each coordinate with probability ``prob``."""

    def __init__(self, prob: float = 1.0) -> None:
        require_unit_interval("operators.mutation.prob", prob)
        self.prob = prob

    def __call__(
        self, children: torch.Tensor, scale: float, generator: torch.Generator
    ) -> torch.Tensor:
        noise = torch.randn(children.shape, generator=generator) * scale
        if self.prob < 1.0:
            noise = noise * (torch.rand(children.shape, generator=generator) < self.prob)
        return children + noise
