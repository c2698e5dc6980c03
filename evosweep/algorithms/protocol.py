"""What the run loop calls on an algorithm, and on the config that builds it.

A config group ``conf/algorithm/NAME.yaml`` names an :class:`AlgorithmConfig` by its
``_target_``; the run builds it with ``config.build(context)`` and then, each generation,
``ask()``, scores the members, ``tell(fitness)`` and ``step_metrics()``. A config may
also check the whole run (:class:`~evosweep.settings.build.ChecksRun`).
See docs/guides/own-algorithm.md.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch

from evosweep.algorithms.context import AlgorithmContext


class Algorithm(Protocol):
    """A search over flat LoRA members ``(D,)``; its whole state fits in :meth:`state_dict`."""

    generation: int  # generations told so far: the run resumes from here

    def ask(self) -> torch.Tensor:
        """The members to score this generation, ``(P, D)``."""
        ...

    def tell(self, fitness: torch.Tensor) -> dict[str, float]:
        """Take the asked members' fitness ``(P,)`` (NaN: the reward failed); return extra metrics."""
        ...

    def step_metrics(self) -> list[dict[str, float]]:
        """One dict per inner step of the last :meth:`tell` (RL steps), logged at ``rl/step``; else []."""
        ...

    def best_member(self) -> torch.Tensor:
        """The member the held-out checks score and the run saves, ``(D,)``."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Everything to resume from (tensors, numbers, generator states)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        ...


@runtime_checkable
class TellsScoresPerPrompt(Protocol):
    """An algorithm that also takes each member's score per train prompt (ES's
    ``algorithm.normalise_per_prompt``); the run then calls :meth:`tell_scores`, not ``tell``."""

    def tell_scores(self, scores: torch.Tensor, groups: int = 1) -> dict[str, float]:
        """Take the asked members' scores ``(P, N)`` (NaN: the reward failed); with ``groups`` > 1
        the members come in that many equal, contiguous groups, each scored on its own prompts
        (``task.minibatch_groups``). Return extra metrics."""
        ...


class AlgorithmConfig(Protocol):
    """``algorithm=NAME``: the validated fields of the config group and the factory."""

    name: str
    population_size: int
    generations: int

    def build(self, context: AlgorithmContext) -> Algorithm:
        """The algorithm, from the run's initial member, generator, operators and model."""
        ...

