"""evosweep's own tracker under a real Optuna sweep: nested child runs, states, a NaN trial failed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna

REPO = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent


def _sweep(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MLFLOW_ENABLE_TELEMETRY": "false",
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    command = [
        sys.executable, "-m", "evosweep", "-m", "hparams_search=ga_optuna", "model=tiny-gpt2",
        "task=fr_en", "task.max_train=2", "task.max_eval=3", "algorithm.generations=2",
        "eval.heldout_every=1", "eval.max_new_tokens=2", "tracking=mlflow", "tracking.experiment=sweep",
        f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}",
        f"tracking.artifact_location={tmp_path / 'artifacts'}",
        f"hydra.sweeper.storage=sqlite:///{tmp_path / 'optuna.db'}", "hydra.sweeper.study_name=s",
        f"hydra.sweep.dir={tmp_path / 'multirun'}", *overrides,
    ]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)


def _runs(tmp_path: Path):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("sweep")
    runs = client.search_runs([experiment.experiment_id])
    parents = [run for run in runs if run.data.tags.get("evosweep.role") == "sweep"]
    return client, parents, [run for run in runs if run not in parents]


def test_trials_log_as_child_runs_of_one_sweep_parent(tmp_path):
    done = _sweep(tmp_path, "hydra.sweeper.n_trials=3", "reward=chrf")
    assert done.returncode == 0, done.stderr[-3000:]
    client, parents, children = _runs(tmp_path)
    assert len(parents) == 1 and len(children) == 3
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'optuna.db'}")
    states = {trial.number: trial.state.name for trial in study.trials}
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
        number = int(child.data.tags["optuna.trial_number"])
        assert child.info.run_name == f"trial-{number}"
        assert child.data.tags["optuna.state"] == states[number] == "COMPLETE"
        steps = [m.step for m in client.get_metric_history(child.info.run_id, "fitness/best")]
        assert sorted(steps) == [0, 1]  # evosweep's tracker logged every generation


def test_a_nan_objective_is_a_failed_trial(tmp_path):
    """The first NaN trial is tolerated (rate 0.5 of 2), the second stops the sweep by name."""
    done = _sweep(tmp_path, "hydra.sweeper.n_trials=2", "hydra.sweeper.max_failure_rate=0.5",
                  "reward=chrf", "reward._target_=nan_rewards.NanOnOnePrompt",
                  "task.max_eval=20")
    assert done.returncode != 0
    assert "max_failure_rate" in done.stderr and "non-finite" in done.stderr, done.stderr[-3000:]
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'optuna.db'}")
    assert [trial.state.name for trial in study.trials] == ["FAIL", "FAIL"]
    client, _, children = _runs(tmp_path)
    assert {child.data.tags["optuna.state"] for child in children} == {"FAIL"}
    for child in children:  # the run itself finished: every generation is there, NaN held-out
        history = client.get_metric_history(child.info.run_id, "heldout/best")
        assert len(history) == 2
