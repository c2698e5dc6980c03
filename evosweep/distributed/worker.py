"""One evaluation worker (a Ray actor): the frozen model loaded once, member slices scored on demand.

The worker builds model, LoRA layout, reward and evaluator from plain settings, so the
loaded model never travels: a member slice comes in as a ``(p, D)`` float32 array of flat
LoRA vectors, its ``(p, N)`` scores (and answers, for text rewards) go back.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from evosweep.settings.evaluation import EvalSettings
from evosweep.settings.model import ModelSettings
from evosweep.tasks.pairs import Pair


@dataclass
class WorkerSpec:
    """What a worker builds itself from (all picklable settings, no tensors)."""

    model: ModelSettings
    eval: EvalSettings
    reward_config: dict[str, Any]  # the run's `reward` node, resolved
    device: str  # "cuda" on a worker that reserved GPUs (Ray shows it only its own), else "cpu"


@dataclass
class SliceResult:
    """A worker's answer for one slice of members."""

    scores: np.ndarray  # (p, N) float32
    completions: list[list[str]] | None  # [p][N] for text rewards
    reward_error: str | None  # the reward's last failure message, if any
    compute_s: float  # seconds the worker spent scoring (the rest of a call is shipping and waiting)


class EvaluationWorker:
    """Holds one copy of the frozen model and scores the members it is sent."""

    def __init__(self, spec: WorkerSpec) -> None:
        from omegaconf import OmegaConf

        from evosweep.evaluation.evaluator import PopulationEvaluator
        from evosweep.lora.batched import BatchedLora
        from evosweep.lora.layout import LoraLayout
        from evosweep.models.device import resolve_device
        from evosweep.models.loading import load_model
        from evosweep.settings.instantiate import build

        self.device = resolve_device(spec.device)
        loaded = load_model(spec.model, self.device)
        self.layout = LoraLayout.from_model(loaded.model, spec.model.lora)
        reward = build("reward", OmegaConf.create(spec.reward_config))
        lora = BatchedLora(loaded.model, self.layout)
        self.evaluator = PopulationEvaluator(loaded, lora, reward, spec.eval)
        self.slices_scored = 0  # by this process (a restarted worker counts from 0)

    def describe(self) -> dict[str, Any]:
        """Process id, LoRA vector length, device, slices scored: the driver checks D matches."""
        return {"pid": os.getpid(), "dim": self.layout.dim, "device": str(self.device),
                "threads": torch.get_num_threads(), "slices_scored": self.slices_scored}

    def score(self, members: np.ndarray, pairs: list[Pair], instructions: list[str] | None,
              sample_seed: int | None) -> SliceResult:
        """Scores of ``members`` ``(p, D)`` on ``pairs``: ``(p, N)``."""
        started = time.perf_counter()
        if sample_seed is not None:  # eval.do_sample: this slice's draws, set by the driver
            torch.manual_seed(sample_seed)
        population = torch.from_numpy(np.array(members, dtype=np.float32, copy=True))  # (p, D)
        evaluation = self.evaluator.score(population, pairs, instructions)
        guard = self.evaluator.score_texts
        self.slices_scored += 1
        return SliceResult(evaluation.scores.cpu().numpy(), evaluation.completions,
                           guard.last_error if guard is not None else None, time.perf_counter() - started)
