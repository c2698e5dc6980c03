"""An MLflow server that goes away mid-run: the run stops in one line, rerunning resumes it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from paused_run import PAUSED, wait_until_paused
from urllib3.exceptions import ConnectTimeoutError
from urllib3.util.retry import Retry

from evosweep.testing_hooks import ENV
from evosweep.tracking.preflight import FAIL_FAST_HTTP

REPO = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
GENERATIONS = 6
#: how long a run may take to stop once its server is gone: a generation, a few bounded retries,
#: the exit; MLflow's own retry settings would back off for minutes (see the test below)
STOP_WITHIN_S = 150


def worst_back_off_s(retries: int, factor: float, jitter: float = 1.0) -> float:
    """Seconds urllib3 (MLflow's HTTP client) sleeps over ``retries`` failed tries, at most."""
    retry, total = Retry(total=retries, backoff_factor=factor), 0.0
    for _ in range(retries):
        retry = retry.increment(method="POST", url="/api", error=ConnectTimeoutError())
        total += retry.get_backoff_time() + jitter
    return total


def test_runs_bound_mlflow_s_retries_far_below_the_stop_deadline() -> None:
    """Deterministic half of the test below: what a run's requests may sleep, by its settings."""
    bounded = worst_back_off_s(int(FAIL_FAST_HTTP["MLFLOW_HTTP_REQUEST_MAX_RETRIES"]),
                               float(FAIL_FAST_HTTP["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"]))
    mlflow_defaults = worst_back_off_s(7, 2)
    assert bounded <= 10 < STOP_WITHIN_S < mlflow_defaults


def _start_run(run_dir: Path, uri: str, experiment: str, pause_at: Path | None = None) -> subprocess.Popen:
    """The run; with ``pause_at``, it pauses once generation 1 is checkpointed, before logging it
    (it writes that file and waits until the test deletes it)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MLFLOW_ENABLE_TELEMETRY": "false",
           "PYTHONPATH": os.pathsep.join([str(TESTS), str(REPO), os.environ.get("PYTHONPATH", "")])}
    if pause_at is not None:
        env.update({ENV: "generation.saved@1", PAUSED: str(pause_at)})
    command = [sys.executable, str(TESTS / "paused_run.py"), "model=tiny-gpt2", "task=fr_en",
               "task.max_train=2", "task.max_eval=2", "eval.max_new_tokens=2", "algorithm.population_size=4",
               f"algorithm.generations={GENERATIONS}", "reward=chrf", "tracking=mlflow",
               f"tracking.uri={uri}", f"tracking.experiment={experiment}", f"hydra.run.dir={run_dir}"]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _steps(uri: str, experiment_name: str) -> list[int]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(experiment_name)
    runs = client.search_runs([experiment.experiment_id]) if experiment else []
    if not runs:
        return []
    assert len(runs) == 1
    return [m.step for m in client.get_metric_history(runs[0].info.run_id, "fitness/best")]


def test_a_run_stops_when_its_server_goes_away_and_resumes_when_it_is_back(mlflow_server,
                                                                           tmp_path: Path) -> None:
    """The session's server is stopped while the run waits at a pause point (generation 1
    checkpointed, not logged) and restarted on the same port and store."""
    server, name, run_dir, paused = mlflow_server, tmp_path.name, tmp_path / "run", tmp_path / "paused"
    run = _start_run(run_dir, server.uri, name, pause_at=paused)
    try:
        wait_until_paused(paused, alive=lambda: run.poll() is None)
    except AssertionError:
        run.kill()
        raise
    assert _steps(server.uri, name) == [0]
    server.stop()
    paused.unlink()  # the run goes on: its next request, logging generation 1, finds no server
    try:
        try:  # generous, and still short of one request's back-off under MLflow's own defaults
            _, stderr = run.communicate(timeout=STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            run.kill()
            pytest.fail(f"the run still retried {STOP_WITHIN_S} s after its server went away")
        assert run.returncode == 2, stderr[-3000:]
        errors = [line for line in stderr.splitlines() if line.startswith("evosweep: error:")]
        assert len(errors) == 1 and "Traceback" not in stderr
        assert errors[0].startswith(f"evosweep: error: tracking.uri: the store at {server.uri} failed")
        assert f"rerun with hydra.run.dir={run_dir} to resume" in errors[0]
        assert (run_dir / "checkpoint.pt").exists()
    finally:
        server.start()  # same port, same store (the other tests of the session use it too)
    rerun = _start_run(run_dir, server.uri, name)
    stdout, stderr = rerun.communicate(timeout=180)
    assert rerun.returncode == 0, stderr[-3000:]
    assert "resumed from" in stdout + stderr
    assert sorted(_steps(server.uri, name)) == list(range(GENERATIONS))  # every step, none twice
