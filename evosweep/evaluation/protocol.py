"""What a run, its held-out checks and its algorithms need from an evaluator.

:class:`~evosweep.evaluation.evaluator.PopulationEvaluator` scores in this process,
:class:`~evosweep.distributed.pooled_evaluator.PooledEvaluator` on Ray actors.
"""

from __future__ import annotations

from typing import Protocol

import torch

from evosweep.evaluation.evaluator import Evaluation
from evosweep.lora.batched import BatchedLora
from evosweep.models.loading import LoadedModel
from evosweep.rewards.guarded import GuardedReward
from evosweep.settings.evaluation import EvalSettings
from evosweep.tasks.pairs import Pair


class Evaluator(Protocol):
    """Scores ``(P, D)`` populations on pairs and reads one member's greedy answers.

    ``loaded`` and ``lora`` are the frozen model and its batched LoRA (held-out KL, trainers);
    ``score_texts`` is the guarded text reward (None for a teacher-forced one).
    """

    settings: EvalSettings
    loaded: LoadedModel
    lora: BatchedLora
    score_texts: GuardedReward | None

    def evaluate(self, population: torch.Tensor, pairs: list[Pair],
                 instructions: list[str] | None = None) -> Evaluation:
        """Scores ``(P, N)``; ``instructions``: one prompt variant per member (or None)."""
        ...

    def score(self, population: torch.Tensor, pairs: list[Pair],
              instructions: list[str] | None = None) -> Evaluation:
        """:meth:`evaluate` without its every-member-failed stop (a slice of a population)."""
        ...

    def greedy_answers(self, member: torch.Tensor, pairs: list[Pair],
                       instruction: str | None = None) -> list[str]:
        """The greedy answers of one member ``(D,)`` to ``pairs``."""
        ...

    def close(self) -> None:
        """Release what the evaluator holds (worker processes); called once when the run ends."""
        ...
