"""An MLflow server that goes away mid-run: the run stops in one line, rerunning resumes it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
GENERATIONS = 6


def _start_run(run_dir: Path, uri: str, experiment: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MLFLOW_ENABLE_TELEMETRY": "false",
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "evosweep", "model=tiny-gpt2", "task=fr_en", "task.max_train=2",
               "task.max_eval=2", "eval.max_new_tokens=2", "algorithm.population_size=4",
               f"algorithm.generations={GENERATIONS}", "reward=chrf",
               "reward._target_=slow_rewards.SlowLength", "++reward.delay_s=0.4", "tracking=mlflow",
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
    """The session's server is stopped mid-run and restarted on the same port and store."""
    server, name, run_dir = mlflow_server, tmp_path.name, tmp_path / "run"
    run = _start_run(run_dir, server.uri, name)
    deadline = time.monotonic() + 120
    while not _steps(server.uri, name) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
    assert _steps(server.uri, name), "the run logged no generation"
    server.stop()
    try:
        started = time.monotonic()
        _, stderr = run.communicate(timeout=120)
        assert time.monotonic() - started < 60  # bounded retries, no minutes of back-off
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
