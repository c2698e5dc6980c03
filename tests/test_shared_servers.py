"""Sweeps on a shared PostgreSQL study logging to a real MLflow server (both started by fixtures)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import optuna

from evosweep.testing_hooks import ENV

REPO = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
GENERATIONS = 4
N_TRIALS = 4


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


def start(command: list[str], log: Path, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MLFLOW_ENABLE_TELEMETRY": "false",
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
           **(extra_env or {})}
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


def launched_trials(log: Path) -> list[int]:
    """Trial numbers a sweep process launched so far (Hydra logs `#<number> : <overrides>`)."""
    return [int(n) for n in re.findall(r"\t#(\d+) : ", log.read_text())] if log.exists() else []


def test_two_sweeps_share_a_postgres_study_and_one_killed_mid_trial_is_replaced(
        postgres, mlflow_server, tmp_path: Path) -> None:
    """Two sweeps on one study log to one MLflow server; the first is SIGKILLed mid-trial
    (at its first trial's generation 1, a kill point).

    The survivor fails the dead sweep's trial (no heartbeats), ends its MLflow run and
    runs trials until the study holds n_trials finished ones, every number unique.
    """
    storage = postgres.create_database("two_sweeps")
    command = sweep_command(
        tmp_path, storage, mlflow_server.uri, f"hydra.sweeper.n_trials={N_TRIALS}",
        "hydra.sweeper.heartbeat_interval=1", "hydra.sweeper.grace_period=3",
        "reward=chrf", "reward._target_=slow_rewards.SlowLength",
    )
    # the doomed sweep SIGKILLs itself in its first trial, once generation 1 is checkpointed
    doomed = start(command, tmp_path / "doomed.log", {ENV: "generation.saved@1"})
    survivor = start(command, tmp_path / "survivor.log")
    try:
        assert doomed.wait(timeout=240) == -signal.SIGKILL, (tmp_path / "doomed.log").read_text()[-3000:]
    finally:
        if doomed.poll() is None:
            os.killpg(doomed.pid, signal.SIGKILL)
    (victim,) = launched_trials(tmp_path / "doomed.log")
    finish(survivor, tmp_path / "survivor.log", timeout=240)

    trials = {t.number: t for t in trials_of(storage)}
    assert len(trials) == len(set(trials))  # the storage's numbers; no trial folder reused
    assert trials[victim].state.name == "FAIL"
    done = [t for t in trials.values() if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(done) == N_TRIALS and not [t for t in trials.values() if t.state.name == "RUNNING"]
    assert all(t.user_attrs.get("evosweep.surplus") for t in trials.values()
               if t.state.name == "FAIL" and t.number != victim)

    client, parents, children = sweep_runs(mlflow_server.uri, tmp_path.name)
    assert len(parents) == 1
    by_number = {c.data.tags.get("optuna.trial_number"): c for c in children}
    dead = by_number[str(victim)]
    assert dead.info.status == "FAILED" and dead.data.tags["optuna.state"] == "FAIL"
    assert all(c.info.status != "RUNNING" for c in children)
    for trial in done:
        child = by_number[str(trial.number)]
        assert child.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
        assert child.info.status == "FINISHED"
        steps = [m.step for m in client.get_metric_history(child.info.run_id, "fitness/best")]
        assert sorted(steps) == list(range(GENERATIONS))
        # artifacts went through the server (proxied), not to a client-side folder
        assert child.info.artifact_uri.startswith("mlflow-artifacts:")
        assert client.list_artifacts(child.info.run_id, "adapters/best"), f"trial {trial.number}"
