"""Mutation: ``mutation(children (C, D), scale, generator) -> mutated (C, D)``.

``scale`` comes from the algorithm (``algorithm.mutation_scale``) times the
schedule's factor for the generation.
"""

from __future__ import annotations

from typing import Protocol

import torch

from evosweep.settings.checks import require_unit_interval


class Mutation(Protocol):
    """``operators.mutation``: mutated children ``(C, D)`` at ``scale``."""

    def __call__(self, children: torch.Tensor, scale: float, generator: torch.Generator) -> torch.Tensor: ...


class GaussianMutation:
    """Adds N(0, scale^2) noise to each coordinate with probability ``prob``."""

    def __init__(self, prob: float = 1.0) -> None:
        require_unit_interval("operators.mutation.prob", prob)
        self.prob = prob

    def __call__(
        self, children: torch.Tensor, scale: float, generator: torch.Generator
    ) -> torch.Tensor:
        noise = torch.randn(children.shape, generator=generator) * scale  # (C, D)
        if self.prob < 1.0:
            noise = noise * (torch.rand(children.shape, generator=generator) < self.prob)
        return children + noise
