"""The Hydra launcher behind ``hydra/launcher=ray``: each job a Ray task, each result its own.

Drop-in for hydra-ray-launcher's ``RayLauncher`` (same ``hydra.launcher.ray.init`` /
``hydra.launcher.ray.remote`` nodes), with two of its traps fixed:

- ``init.object_store_memory`` is not forced to 75 MiB (it breaks ``init.address=auto``);
  nulls are left to Ray, and sizes given with an address are one clear error.
- Results are collected job by job: a task that dies (worker killed, out of memory) becomes
  that job's FAILED :class:`JobReturn`; the other jobs' results are kept.
"""

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, configure_log, filter_overrides, setup_globals
from hydra.errors import CompactHydraException
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, open_dict

from evosweep.distributed.ray_session import ensure_ray
from evosweep.errors import ConfigError
from evosweep.settings.containers import resolved_dict

from .lost_job import lost_job
from .remote_job import run_remote_job

log = logging.getLogger(__name__)


class LauncherConfigError(CompactHydraException, ValueError):
    """A ``hydra.launcher.ray`` setting Ray refuses; Hydra prints it as one line."""


class EvosweepRayLauncher(Launcher):
    """Launches every job of a batch as a Ray task and waits for each one on its own."""

    def __init__(self, ray: DictConfig) -> None:
        self.ray_settings = ray
        self.config: DictConfig | None = None
        self.hydra_context: HydraContext | None = None
        self.task_function: TaskFunction | None = None
        self._lock = threading.Lock()  # the sweeper's workers launch from several threads
        self._logging_set = False

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        self.config = config
        self.hydra_context = hydra_context
        self.task_function = task_function
        self._connect()  # here, in the main thread: Ray sets its signal handlers only there

    def _connect(self) -> None:
        try:
            ensure_ray(self._container("init"), "hydra.launcher.ray.init")
        except ConfigError as error:
            raise LauncherConfigError(str(error)) from None

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        """Submit all jobs, then collect each result; a lost task is a failed JobReturn."""
        import ray
        from ray.exceptions import RayError

        assert self.config is not None and self.hydra_context is not None and self.task_function is not None
        setup_globals()
        with self._lock:
            if not self._logging_set:
                configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
                self._logging_set = True
            self._connect()
            options = self._container("remote")
            task = ray.remote(**options)(run_remote_job) if options else ray.remote(run_remote_job)
            submitted = []
            for offset, overrides in enumerate(job_overrides):
                sweep_config = self._job_config(overrides, initial_job_idx + offset)
                log.info("\t#%d : %s", initial_job_idx + offset, " ".join(filter_overrides(overrides)))
                ref = task.remote(self.hydra_context, sweep_config, self.task_function,
                                  Singleton.get_state())
                submitted.append((ref, sweep_config, overrides))
        returns = []
        for ref, sweep_config, overrides in submitted:
            try:
                returns.append(ray.get(ref))
            except RayError as error:
                lost = lost_job(sweep_config, overrides, error)
                log.error("%s", lost._return_value)  # noqa: SLF001 - reading it would raise
                returns.append(lost)
        return returns

    def _container(self, key: str) -> dict[str, Any]:
        node = self.ray_settings.get(key)
        values = resolved_dict(node) if node is not None else {}
        return {name: value for name, value in values.items() if value is not None}

    def _job_config(self, overrides: Sequence[str], num: int) -> DictConfig:
        """The job's config, its sweep folder absolute (a worker's own cwd may differ)."""
        assert self.config is not None and self.hydra_context is not None
        sweep_config = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
        with open_dict(sweep_config):
            sweep_config.hydra.job.id = f"ray_job_{num}"
            sweep_config.hydra.job.num = num
            sweep_dir = Path(str(sweep_config.hydra.sweep.dir))
            if not sweep_dir.is_absolute():
                sweep_config.hydra.sweep.dir = str(Path(str(sweep_config.hydra.runtime.cwd)) / sweep_dir)
        Path(str(sweep_config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        return sweep_config
