"""Parent selection: ``selection(fitness (P,), count, generator) -> indices (count,)``.

NaN fitness (a failed member) ranks below every real value. Each selection
says which population sizes it can work with (``check_population``), so a bad
combination fails at start-up.
"""

from __future__ import annotations

from typing import Protocol

import torch

from evosweep.algorithms.shaping import failed_last, tied_ranks
from evosweep.errors import ConfigError
from evosweep.settings.checks import require_positive


class Selection(Protocol):
    """``operators.selection``: parent indices ``(count,)`` from fitness ``(P,)``."""

    def check_population(self, population_size: int) -> None:
        """Raise a ConfigError when it cannot work on ``population_size`` members."""
        ...

    def __call__(self, fitness: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor: ...


def _require_at_most_population(field: str, value: int, population_size: int) -> None:
    if value > population_size:
        raise ConfigError(
            field,
            f"{value} is larger than algorithm.population_size ({population_size}); "
            f"lower {field} or raise algorithm.population_size",
        )


class TruncationSelection:
    """Parents drawn uniformly from the ``top`` best members (the original design: top 2)."""

    def __init__(self, top: int = 2) -> None:
        require_positive("operators.selection.top", top)
        self.top = top

    def check_population(self, population_size: int) -> None:
        _require_at_most_population("operators.selection.top", self.top, population_size)

    def __call__(self, fitness: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
        order = torch.argsort(failed_last(fitness), descending=True, stable=True)
        pool = order[: min(self.top, fitness.numel())]
        return pool[torch.randint(pool.numel(), (count,), generator=generator)]


class TournamentSelection:
    """Each parent is the fittest of ``size`` distinct members drawn at random."""

    def __init__(self, size: int = 3) -> None:
        require_positive("operators.selection.size", size)
        self.size = size

    def check_population(self, population_size: int) -> None:
        _require_at_most_population("operators.selection.size", self.size, population_size)

    def __call__(self, fitness: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
        members = fitness.numel()
        entrants = torch.rand(count, members, generator=generator).argsort(dim=1)  # (count, P)
        entrants = entrants[:, : min(self.size, members)]  # (count, k), distinct per row
        scores = failed_last(fitness)[entrants]  # (count, k)
        winner = scores.argmax(dim=1, keepdim=True)  # (count, 1); ties -> first drawn
        return entrants.gather(1, winner).squeeze(1)


class RankSelection:
    """Rank-proportional: the i-th worst of P members is drawn with probability i / (P(P+1)/2).

    Only the order of fitness matters, so one outlier cannot take over the
    parents as it can with fitness-proportional (roulette) selection.
    """

    def check_population(self, population_size: int) -> None:
        """Works with any population size."""

    def __call__(self, fitness: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
        ranks = tied_ranks(failed_last(fitness)) + 1  # (P,), best = P; tied members equally likely
        return torch.multinomial(ranks, count, replacement=True, generator=generator)
