"""Sweeps on a shared PostgreSQL study logging to a real MLflow server (both started by fixtures)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna

REPO = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
GENERATIONS = 3


def sweep_command(tmp_path: Path, storage: str, tracking_uri: str, *overrides: str) -> list[str]:
    """A tiny-model `python -m evosweep -m hparams_search=ga_optuna` on a shared study and server."""
    return [
        sys.executable, "-m", "evosweep", "-m", "hparams_search=ga_optuna", "model=tiny-gpt2",
        "task=fr_en", "task.max_train=2", "task.max_eval=2", f"algorithm.generations={GENERATIONS}",
        "eval.max_new_tokens=2", "tracking=mlflow", f"tracking.uri={tracking_uri}",
        f"tracking.experiment={tmp_path.name}", f"hydra.sweeper.storage={storage}",
        "hydra.sweeper.study_name=shared", f"hydra.sweep.dir={tmp_path / 'multirun'}",
        *overrides,
    ]


def start(command: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MLFLOW_ENABLE_TELEMETRY": "false",
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    with open(log, "w") as out:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def finish(proc: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    assert code == 0, log.read_text()[-3000:]


def trials_of(storage: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name="shared", storage=storage).get_trials(deepcopy=False)


def sweep_runs(tracking_uri: str, experiment: str):
    """(client, parent runs, child runs) of ``experiment`` in the server."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    parents = [run for run in runs if run.data.tags.get("evosweep.role") == "sweep"]
    return client, parents, [run for run in runs if run not in parents]


def test_two_sweeps_share_a_postgres_study_and_nest_in_the_mlflow_server(postgres, mlflow_server,
                                                                          tmp_path: Path) -> None:
    storage = postgres.create_database("two_sweeps")
    command = sweep_command(tmp_path, storage, mlflow_server.uri, "hydra.sweeper.n_trials=4")
    procs = [start(command, tmp_path / f"{name}.log") for name in ("a", "b")]
    for proc, name in zip(procs, ("a", "b"), strict=True):
        finish(proc, tmp_path / f"{name}.log")

    trials = trials_of(storage)
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers))
    done = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(done) == 4 and not [t for t in trials if t.state.name == "RUNNING"]
    client, parents, children = sweep_runs(mlflow_server.uri, tmp_path.name)
    assert len(parents) == 1
    finished = {str(t.number) for t in done}
    nested = [c for c in children if c.data.tags.get("optuna.trial_number") in finished]
    assert len(nested) == 4
    for child in nested:
        assert child.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
        assert child.info.status == "FINISHED"
        steps = [m.step for m in client.get_metric_history(child.info.run_id, "fitness/best")]
        assert sorted(steps) == list(range(GENERATIONS))
        # artifacts went through the server (proxied), not to a client-side folder
        assert child.info.artifact_uri.startswith("mlflow-artifacts:")
        adapter = [f.path for f in client.list_artifacts(child.info.run_id, "adapters/best")]
        assert adapter, f"no adapter logged for trial {child.data.tags['optuna.trial_number']}"


def wait_for_a_reporting_trial(storage: str, timeout: float = 180) -> optuna.trial.FrozenTrial:
    """The first RUNNING trial that has reported a generation (its job is mid-run)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            for trial in trials_of(storage):
                if trial.state.name == "RUNNING" and trial.intermediate_values:
                    return trial
        except KeyError:  # no study yet
            pass
        time.sleep(0.2)
    raise AssertionError(f"no trial reported a generation within {timeout} s")


def test_a_killed_sweep_s_trial_is_failed_and_replaced(postgres, mlflow_server, tmp_path: Path) -> None:
    """SIGKILL one sweep mid-trial: the other fails that trial (heartbeats) and reaches n_trials."""
    storage = postgres.create_database("killed")
    command = sweep_command(
        tmp_path, storage, mlflow_server.uri, "hydra.sweeper.n_trials=2",
        "hydra.sweeper.heartbeat_interval=1", "hydra.sweeper.grace_period=3",
        "algorithm.generations=8", "reward=chrf", "reward._target_=slow_rewards.SlowLength",
    )
    doomed = start(command, tmp_path / "doomed.log")
    victim = wait_for_a_reporting_trial(storage)
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=30)
    survivor = start(command, tmp_path / "survivor.log")
    finish(survivor, tmp_path / "survivor.log", timeout=120)

    trials = {t.number: t for t in trials_of(storage)}
    assert trials[victim.number].state.name == "FAIL"
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in trials.values()) == 2
    assert not [t for t in trials.values() if t.state.name == "RUNNING"]
    client, parents, children = sweep_runs(mlflow_server.uri, tmp_path.name)
    assert len(parents) == 1
    by_number = {c.data.tags.get("optuna.trial_number"): c for c in children}
    dead = by_number[str(victim.number)]
    assert dead.info.status == "FAILED" and dead.data.tags["optuna.state"] == "FAIL"
    assert all(c.info.status != "RUNNING" for c in children)
