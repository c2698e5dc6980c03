"""``eval.workers >= 1``: a run's population scored on Ray actors, everything else in this process.

:class:`PooledEvaluator` is a :class:`PopulationEvaluator` whose :meth:`score` cuts the
``(P, D)`` population into contiguous member slices, one per actor, and concatenates the
``(p_i, N)`` results in order. Algorithm, checkpoint, tracker, the held-out answers and any
gradient steps (pg, sft) stay in the driver, which keeps its own copy of the model. On CPU
the scores equal one process's, bit for bit: each member's rows see the same prompts,
padding and weights whichever chunk they fall in.
"""

from __future__ import annotations

import torch

from evosweep.distributed.pool import WorkerPool
from evosweep.distributed.worker import SliceResult, WorkerSpec
from evosweep.errors import ConfigError
from evosweep.evaluation.evaluator import Evaluation, PopulationEvaluator
from evosweep.lora.batched import BatchedLora
from evosweep.models.loading import LoadedModel
from evosweep.rewards.protocol import Reward
from evosweep.seeds import draw_seeds
from evosweep.settings.build import RunSettings
from evosweep.settings.evaluation import EvalSettings
from evosweep.tasks.pairs import Pair


def member_slices(members: int, workers: int) -> list[slice]:
    """Contiguous slices of ``members``, one per worker that gets any; sizes differ by at most 1."""
    count = min(members, workers)
    base, extra = divmod(members, count)
    bounds, start = [], 0
    for index in range(count):
        stop = start + base + (1 if index < extra else 0)
        bounds.append(slice(start, stop))
        start = stop
    return bounds


def worker_spec(settings: RunSettings) -> WorkerSpec:
    """What each worker builds: the run's model, ``eval.*`` and reward, on GPU if it reserves one."""
    if getattr(settings.reward, "interactive", False):
        raise ConfigError("eval.workers",
                          "reward=human and human_web ask a person in this process; set eval.workers=0")
    device = "cuda" if settings.eval.gpus_per_worker > 0 else "cpu"
    return WorkerSpec(settings.model, settings.eval, settings.reward_config or {}, device)


def start_pool(settings: RunSettings) -> WorkerPool:
    """Start ``eval.workers`` actors (they load the model while this process loads its own)."""
    return WorkerPool(worker_spec(settings), settings.eval.workers, settings.eval.gpus_per_worker)


class PooledEvaluator(PopulationEvaluator):
    """Scores populations on a :class:`WorkerPool`; the rest of the evaluator runs here."""

    def __init__(self, loaded: LoadedModel, lora: BatchedLora, reward: Reward, settings: EvalSettings,
                 pool: WorkerPool) -> None:
        super().__init__(loaded, lora, reward, settings)
        self.pool = pool
        self.last_results: list[SliceResult] = []  # the latest call's per-worker results (bench)
        pool.wait_ready(lora.layout.dim)

    def close(self) -> None:
        """Stop the actors (the end of a run), freeing their CPUs and GPUs for the next."""
        self.pool.close()

    def score(self, population: torch.Tensor, pairs: list[Pair],
              instructions: list[str] | None = None) -> Evaluation:
        """Slice ``i`` of ``population`` ``(P, D)`` to worker ``i``; scores ``(P, N)`` in member order."""
        if instructions is not None and len(instructions) != population.shape[0]:
            raise ValueError(f"{len(instructions)} instructions for {population.shape[0]} members")
        bounds = member_slices(population.shape[0], len(self.pool))
        members = population.detach().to("cpu", torch.float32)
        slices = [(members[part].numpy(), None if instructions is None else instructions[part])
                  for part in bounds]
        # sampled answers: one seed per call from this process's generator (checkpointed), so a
        # run is repeatable and resumes exactly; greedy evaluation draws nothing
        seed = int(draw_seeds(1)) if self.settings.do_sample else None
        results = self.last_results = self.pool.score(slices, pairs, seed)
        scores = torch.cat([torch.from_numpy(result.scores.copy()) for result in results])  # (P, N)
        answered = [result.completions for result in results if result.completions is not None]
        completions = None
        if len(answered) == len(results):
            completions = [answers for part in answered for answers in part]
        if self.score_texts is not None:  # for the all-members-failed message in evaluate()
            self.score_texts.last_error = next((r.reward_error for r in results if r.reward_error), None)
        return Evaluation(scores=scores, completions=completions)
