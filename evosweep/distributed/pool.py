"""A pool of evaluation actors on Ray (``eval.workers``): started once, restarted when one dies.

Each actor reserves 1 CPU and ``eval.gpus_per_worker`` GPUs. An actor whose process dies
is restarted by Ray (it reloads the model) and the slice it was scoring is sent again,
up to ``max_restarts`` times; after that the run stops with a :class:`WorkerError` and
continues from its checkpoint when rerun. Every wait for actors to start is bounded.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from evosweep.distributed.ray_session import ensure_ray
from evosweep.distributed.worker import EvaluationWorker, SliceResult, WorkerSpec
from evosweep.errors import ConfigError, EvosweepError, WorkerError, first_line
from evosweep.tasks.pairs import Pair

log = logging.getLogger(__name__)

READY_TIMEOUT_S = float(os.environ.get("EVOSWEEP_WORKER_READY_TIMEOUT_S", 600))
MAX_RESTARTS = 2  # per actor, over the whole run


class WorkerPool:
    """``workers`` actors holding the model; :meth:`score` sends one member slice to each."""

    def __init__(self, spec: WorkerSpec, workers: int, gpus_per_worker: float,
                 max_restarts: int = MAX_RESTARTS) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("eval.workers", "needs Ray: pip install 'evosweep[scale]', "
                              "or set eval.workers=0 to evaluate in this process") from None
        ensure_ray({}, "eval", address_field="RAY_ADDRESS")
        self._check_room(ray.cluster_resources(), workers, gpus_per_worker)
        actor = ray.remote(EvaluationWorker).options(
            num_cpus=1, num_gpus=gpus_per_worker, max_restarts=max_restarts, max_task_retries=max_restarts)
        # Ray ActorHandles; Any because ray types their methods as plain functions, not remote ones
        self.actors: list[Any] = [actor.remote(spec) for _ in range(workers)]  # loading the model meanwhile
        self.max_restarts = max_restarts
        self.info: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self.actors)

    @staticmethod
    def _check_room(total: dict[str, float], workers: int, gpus_per_worker: float) -> None:
        cpus, gpus = total.get("CPU", 0.0), total.get("GPU", 0.0)
        if workers > cpus or workers * gpus_per_worker > gpus:
            raise ConfigError("eval.workers", (
                f"{workers} workers need {workers} CPUs and {workers * gpus_per_worker:g} GPUs; the Ray "
                f"cluster has {cpus:g} CPUs and {gpus:g} GPUs: lower eval.workers or "
                "eval.gpus_per_worker, or add nodes"))

    def wait_ready(self, dim: int | None, timeout_s: float = READY_TIMEOUT_S) -> list[dict[str, Any]]:
        """Wait (at most ``timeout_s``) until every actor has loaded the model; check its D."""
        import ray
        from ray.exceptions import GetTimeoutError, RayError

        try:
            self.info = ray.get([actor.describe.remote() for actor in self.actors], timeout=timeout_s)
        except GetTimeoutError:
            raise WorkerError(
                f"eval.workers: {len(self.actors)} workers not ready after {timeout_s:g} s: the Ray cluster "
                "has no free CPUs/GPUs for them (trials of a Ray sweep hold some), or loading the model "
                "hangs") from None
        except RayError as error:
            raise WorkerError(f"eval.workers: a worker could not start: {first_line(error)}") from None
        for info in self.info:
            if dim is not None and info["dim"] != dim:
                raise WorkerError(f"eval.workers: a worker's LoRA vector has {info['dim']} entries, this "
                                  f"process's {dim}: every node must load the same model files")
        log.info("%d evaluation workers ready: %s", len(self.actors), self.info)
        return self.info

    def describe(self, timeout_s: float = 60) -> list[dict[str, Any]]:
        """Each actor's process id (a restarted actor has a new one), device, slices scored."""
        import ray

        return ray.get([actor.describe.remote() for actor in self.actors], timeout=timeout_s)

    def score(self, slices: list[tuple[np.ndarray, list[str] | None]], pairs: list[Pair],
              sample_seed: int | None) -> list[SliceResult]:
        """Slice ``i`` (members ``(p_i, D)``, their instructions) to actor ``i``; results in order."""
        import ray
        from ray.exceptions import RayActorError, RayTaskError

        shared_pairs = ray.put(pairs)
        refs = []
        for index, (members, instructions) in enumerate(slices):  # at most one slice per actor
            seed = None if sample_seed is None else sample_seed + index
            refs.append(self.actors[index].score.remote(members, shared_pairs, instructions, seed))
        results = []
        for index, ref in enumerate(refs):
            try:
                results.append(ray.get(ref))
            except RayActorError as error:
                raise WorkerError(
                    f"eval.workers: worker {index} died more than {self.max_restarts} time(s) "
                    f"({first_line(error)}); rerun the same command to continue from the last "
                    "checkpoint") from None
            except RayTaskError as error:  # the evaluation itself raised: as it would in-process
                cause = getattr(error, "cause", None)
                if isinstance(cause, EvosweepError):
                    raise cause from None
                raise WorkerError(
                    f"eval.workers: worker {index} failed: {first_line(cause or error)}") from None
        return results

    def close(self) -> None:
        """Stop the actors now (they also stop when the pool is garbage-collected)."""
        import ray

        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
