"""The body of one Hydra job inside a Ray worker process (a task)."""

import os
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, run_job, setup_globals
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf


def run_remote_job(hydra_context: HydraContext, sweep_config: DictConfig, task_function: TaskFunction,
                   singleton_state: dict[Any, Any]) -> JobReturn:
    """Run the job as the sweep process would, from the launch folder when this node has it.

    Relative paths in the config (``outputs/mlflow.db``, task files) then mean what they mean
    on the launching machine, on a cluster whose nodes share that folder.
    """
    setup_globals()
    Singleton.set_state(singleton_state)
    HydraConfig.instance().set_config(sweep_config)
    previous = os.getcwd()
    launch_cwd = OmegaConf.select(sweep_config, "hydra.runtime.cwd")
    if launch_cwd and os.path.isdir(launch_cwd):
        os.chdir(launch_cwd)
    try:
        return run_job(hydra_context=hydra_context, task_function=task_function, config=sweep_config,
                       job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")
    finally:
        os.chdir(previous)  # Ray reuses worker processes for later tasks
