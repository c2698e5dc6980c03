"""Kill a 12-trial sweep half-way, rerun the same command: exactly 12 finished trials,
no job folder overwritten, and the median pruner prunes through the storage."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import optuna
from sweeper_app.harness import load_study, run_app, start_app, states

SWEEP = (
    "hydra.sweeper.n_trials=12",
    "hydra.sweeper.pruner={name: median, n_startup_trials: 2}",
    "hydra.sweeper.heartbeat_interval=1",
    "hydra.sweeper.grace_period=2",
    "steps=3",
    "sleep=0.1",
)


def _wait_for_done(cwd: Path, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            counts = states(load_study(cwd))
        except Exception:  # the study or its database does not exist yet
            counts = {}
        if counts.get("COMPLETE", 0) + counts.get("PRUNED", 0) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} trials finished in {timeout} s")


def test_killed_sweep_resumes_to_exactly_n_trials(tmp_path: Path) -> None:
    proc = start_app(tmp_path, *SWEEP)
    try:
        _wait_for_done(tmp_path, 6, timeout=90)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # its own process group: the sweep and its job
        proc.wait()
    before = states(load_study(tmp_path))
    assert before.get("COMPLETE", 0) + before.get("PRUNED", 0) < 12

    run_app(tmp_path, *SWEEP)  # the same command again

    study = load_study(tmp_path)
    trials = study.get_trials(deepcopy=False)
    after = states(study)
    assert after.get("COMPLETE", 0) + after.get("PRUNED", 0) == 12
    assert after.get("PRUNED", 0) >= 1
    assert after.get("RUNNING", 0) == 0
    assert after.get("FAIL", 0) == before.get("RUNNING", 0)  # killed mid-run: failed as stale
    assert set(after) <= {"COMPLETE", "PRUNED", "FAIL"}
    numbers = [t.number for t in trials]
    assert numbers == list(range(len(trials)))
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    assert all(t.intermediate_values for t in pruned)
    # every job folder (named by trial number) was written by one run only; the trial the
    # kill caught may have died before its run wrote anything (its folder is empty then)
    folders = [p for p in (tmp_path / "multirun").iterdir() if p.is_dir()]
    assert len(folders) >= 12
    failed = {t.number for t in trials if t.state == optuna.trial.TrialState.FAIL}
    for folder in folders:
        record = folder / "runs.txt"
        runs = record.read_text().count("\n") if record.exists() else 0
        assert runs == 1 or (runs == 0 and int(folder.name) in failed), folder
    assert {int(p.name) for p in folders} <= set(numbers)
