"""SLURM's path through submitit, run here with submitit's local executor; the SLURM example composes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import CONF_DIR, TINY_RUN
from hydra import compose, initialize_config_dir

from evosweep.state.checkpoint import load_checkpoint


def test_submitit_local_runs_each_job_as_its_own_process(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "evosweep", "-m", *TINY_RUN, "algorithm.generations=1", "seed=0,1",
         "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5", "hydra.launcher.cpus_per_task=1",
         f"hydra.sweep.dir={tmp_path / 'multirun'}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    finals = [load_checkpoint(tmp_path / "multirun" / str(num))["final"] for num in (0, 1)]
    assert all(isinstance(value, float) for value in finals)
    assert finals[0] != finals[1]  # two seeds, two runs
    logs = list((tmp_path / "multirun" / ".submitit").glob("*/*_log.out"))
    assert len(logs) == 2  # each job ran in a submitit process of its own


def test_the_slurm_example_is_submitit_slurm_with_one_gpu_per_job() -> None:
    with initialize_config_dir(version_base="1.3", config_dir=CONF_DIR):
        overrides = ["hydra/launcher=slurm", "hydra.launcher.partition=a100"]
        cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_ == "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
    assert (launcher.partition, launcher.gpus_per_node, launcher.timeout_min) == ("a100", 1, 120)
    assert list(launcher.setup) == ["source .venv/bin/activate"]
