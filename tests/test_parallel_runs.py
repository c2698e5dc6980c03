"""Four jobs in parallel on one fresh MLflow sqlite store: every run lands (no migration race)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("store_exists", [False, True], ids=["fresh-store", "existing-store"])
def test_joblib_multirun_lands_every_run(tmp_path: Path, store_exists: bool) -> None:
    from mlflow import MlflowClient

    store = tmp_path / "mlflow.db"
    command = [
        sys.executable, "-m", "evosweep", "-m", "model=tiny-gpt2", "task=bonjour", "seed=0,1,2,3",
        "hydra/launcher=joblib", "hydra.launcher.n_jobs=4", "algorithm.generations=2",
        "algorithm.population_size=4", "eval.max_new_tokens=2",
        f"tracking.uri=sqlite:///{store}", f"tracking.artifact_location={tmp_path / 'artifacts'}",
        f"hydra.sweep.dir={tmp_path / 'multirun'}",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MLFLOW_ENABLE_TELEMETRY": "false"}
    if store_exists:
        MlflowClient(tracking_uri=f"sqlite:///{store}").search_experiments()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    client = MlflowClient(tracking_uri=f"sqlite:///{store}")
    experiment = client.get_experiment_by_name("evosweep")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(run.data.params["seed"] for run in runs) == ["0", "1", "2", "3"]
    assert {run.info.status for run in runs} == {"FINISHED"}
    for run in runs:
        steps = [m.step for m in client.get_metric_history(run.info.run_id, "fitness/best")]
        assert sorted(steps) == [0, 1]
