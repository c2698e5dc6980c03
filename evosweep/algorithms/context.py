"""What an algorithm may be built from: the run's operators, generator and, for
gradient-based algorithms, the model and evaluator."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from evosweep.algorithms.operators.crossover import Crossover
from evosweep.algorithms.operators.mutation import Mutation
from evosweep.algorithms.operators.selection import Selection
from evosweep.algorithms.schedules import Schedule
from evosweep.evaluation.protocol import Evaluator
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.models.loading import LoadedModel
from evosweep.rewards.protocol import Reward
from evosweep.tasks.pairs import Pair


@dataclass
class AlgorithmContext:
    """Handed to ``<AlgorithmConfig>.build(context)``.

    A run fills every field. The model-side ones (``loaded`` ... ``reward``) may be None
    where an algorithm is built without a model (a search over plain tensors);
    :meth:`model` and :meth:`scoring` hand them to algorithms that need them.
    """

    initial_member: torch.Tensor  # (D,)
    generator: torch.Generator
    selection: Selection
    crossover: Crossover
    mutation: Mutation
    schedule: Schedule
    loaded: LoadedModel | None = None
    layout: LoraLayout | None = None
    lora: BatchedLora | None = None
    evaluator: Evaluator | None = None
    reward: Reward | None = None
    train_pairs: list[Pair] = field(default_factory=list)

    def model(self, algorithm: str) -> tuple[LoadedModel, BatchedLora]:
        """The frozen model and its batched LoRA, for ``algorithm``, which trains through them."""
        if self.loaded is None or self.lora is None:
            raise ValueError(f"{algorithm} trains through the model: the context has none")
        return self.loaded, self.lora

    def scoring(self, algorithm: str) -> tuple[Evaluator, Reward]:
        """The evaluator and the reward to score ``algorithm``'s own samples with (guarded if text)."""
        if self.evaluator is None:
            raise ValueError(f"{algorithm} scores its own samples: the context has no evaluator")
        reward = self.evaluator.score_texts or self.reward
        if reward is None:
            raise ValueError(f"{algorithm} scores its own samples: the context has no reward")
        return self.evaluator, reward
