"""``python -m evosweep.bench --workers 1 2``: evals/s of one generation per number of Ray workers.

Each worker count gets a fresh pool (``eval.workers``) on a local Ray of ``max(workers)``
CPUs; the same P x N grid is scored ``--repeats`` times after one warm-up. A generation's
wall time splits into the slowest worker's compute and the rest: shipping the ``(P, D)``
member vectors out and the scores back, and Ray's scheduling. Row 0 is the in-process
evaluator (``eval.workers=0``) on this process's threads, for reference.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import torch
from omegaconf import OmegaConf

from evosweep.distributed.pool import WorkerPool
from evosweep.distributed.pooled_evaluator import PooledEvaluator
from evosweep.distributed.worker import WorkerSpec
from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.models.loading import LoadedModel
from evosweep.settings.conf_dir import CONF_DIR
from evosweep.settings.containers import resolved_dict
from evosweep.settings.evaluation import EvalSettings
from evosweep.settings.instantiate import build
from evosweep.settings.model import ModelSettings
from evosweep.tasks.pairs import Pair


@dataclass
class WorkersRow:
    """One worker count's best round: wall, slowest worker's compute, and the overhead between."""

    workers: int
    generation_s: float
    compute_s: float | None  # None in process
    evals: int
    megabytes_sent: float

    @property
    def evals_per_s(self) -> float:
        return self.evals / self.generation_s

    @property
    def overhead_s(self) -> float | None:
        return None if self.compute_s is None else self.generation_s - self.compute_s


def reward_config(name: str) -> dict[str, Any]:
    """A conf/reward entry as a plain dict (what each worker builds its reward from)."""
    return resolved_dict(OmegaConf.load(CONF_DIR / "reward" / f"{name}.yaml"))


def time_generation(evaluator: PopulationEvaluator, population: torch.Tensor, pairs: list[Pair],
                    repeats: int) -> tuple[float, float | None]:
    """Best-of-``repeats`` seconds of one ``score`` call, and its slowest worker's compute time."""
    evaluator.score(population[: max(1, population.shape[0] // 4)], pairs[:1])  # warm-up
    best, compute = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        evaluator.score(population, pairs)
        elapsed = time.perf_counter() - started
        if elapsed < best:
            best = elapsed
            results = getattr(evaluator, "last_results", None)
            compute = max(result.compute_s for result in results) if results else None
    return best, compute


def run_workers(args: argparse.Namespace, settings: ModelSettings, loaded: LoadedModel,
                population: torch.Tensor, pairs: list[Pair]) -> list[WorkersRow]:
    """The in-process row, then one row per ``args.workers`` count, printed as they finish."""
    import ray

    eval_settings = EvalSettings(batch_size=args.batch_size, max_new_tokens=args.new_tokens,
                                 share_prompt_prefix=args.share_prefix)
    config = reward_config(args.reward)
    layout = LoraLayout.from_model(loaded.model, settings.lora)
    reward = build("reward", OmegaConf.create(config))
    local = PopulationEvaluator(loaded, BatchedLora(loaded.model, layout), reward, eval_settings)
    evals = population.shape[0] * len(pairs)
    megabytes = population.numel() * 4 / 1e6
    rows = [WorkersRow(0, *time_generation(local, population, pairs, args.repeats), evals, 0.0)]
    print(format_row(rows[-1]), flush=True)
    ray.init(num_cpus=max(args.workers), include_dashboard=False, object_store_memory=200_000_000,
             logging_level=logging.WARNING, log_to_driver=False)
    try:
        spec = WorkerSpec(settings, eval_settings, config, "cuda" if args.gpus_per_worker else "cpu")
        for count in args.workers:
            pool = WorkerPool(spec, count, args.gpus_per_worker)
            pooled = PooledEvaluator(loaded, local.lora, local.reward, eval_settings, pool)
            rows.append(WorkersRow(count, *time_generation(pooled, population, pairs, args.repeats), evals,
                                   megabytes))
            print(format_row(rows[-1]), flush=True)
            pool.close()
    finally:
        ray.shutdown()
    return rows


def header(args: argparse.Namespace, dim: int) -> str:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"evosweep bench --workers: model={args.model} reward={args.reward} P={args.population} "
            f"N={args.prompts} new_tokens={args.new_tokens} D={dim} repeats={args.repeats} "
            f"driver threads={torch.get_num_threads()} worker threads=1 cpus={os.cpu_count()} "
            f"load avg {load}\n"
            f"{'workers':>8}{'evals/s':>9}{'gen s':>8}{'compute s':>11}{'overhead s':>12}{'MB sent':>9}")


def format_row(row: WorkersRow) -> str:
    label = "0 (here)" if row.workers == 0 else str(row.workers)
    compute = "-" if row.compute_s is None else f"{row.compute_s:.3f}"
    overhead = "-" if row.overhead_s is None else f"{row.overhead_s:.3f}"
    return (f"{label:>8}{row.evals_per_s:>9.2f}{row.generation_s:>8.3f}{compute:>11}{overhead:>12}"
            f"{row.megabytes_sent:>9.1f}")
