"""What an algorithm may be built from: the run's operators, generator and, for
gradient-based algorithms, the model and evaluator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class AlgorithmContext:
    """Handed to ``<AlgorithmConfig>.build(context)``."""

    initial_member: torch.Tensor  # (D,)
    generator: torch.Generator
    selection: Any
    crossover: Any
    mutation: Any
    schedule: Any
    loaded: Any = None  # evosweep.models.loading.LoadedModel
    layout: Any = None  # evosweep.lora.layout.LoraLayout
    lora: Any = None  # evosweep.lora.batched.BatchedLora
    evaluator: Any = None  # evosweep.evaluation.evaluator.PopulationEvaluator
    reward: Any = None
    train_pairs: Any = None
