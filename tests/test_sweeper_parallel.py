"""Parallel trials: joblib workers without lockstep, and two sweeps sharing one study."""

from __future__ import annotations

import re
from pathlib import Path

from sweeper_app.harness import load_study, run_app, start_app, states


def _events(cwd: Path) -> list[str]:
    """events.txt's lines as ``kind num``, in the order the jobs wrote them (no clock read)."""
    return [f"{line.split()[0]} {line.split()[2]}" for line in (cwd / "events.txt").read_text().splitlines()]


def test_joblib_workers_take_new_trials_without_waiting_for_the_batch(tmp_path: Path) -> None:
    """Trial 0 ends only once trial 3 has started: with 2 workers and no lockstep, the other
    worker runs trials 1, 2 and 3 meanwhile (in lockstep trial 3 would wait for trial 0)."""
    proc = run_app(
        tmp_path, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
        "hydra.sweeper.n_jobs=2", "hydra.sweeper.n_trials=4",
        "steps=3", "hold=[0,3]", f"log_dir={tmp_path}",
        timeout=300,
    )
    events = _events(tmp_path)
    assert "held-too-long 3" not in events, events
    assert events.index("start 2") < events.index("start 3") < events.index("end 0"), events
    study = load_study(tmp_path)
    assert states(study) == {"COMPLETE": 4}
    # the jobs ran in joblib's worker processes and reported through the storage
    assert all(len(t.intermediate_values) == 3 for t in study.trials)
    pids = {re.findall(r"pid=(\d+)", (tmp_path / "multirun" / str(n) / "runs.txt").read_text())[0]
            for n in range(4)}
    assert len(pids) == 2  # two joblib worker processes, neither of them the sweep
    assert "Joblib.Parallel" in proc.stdout + proc.stderr


def test_two_sweep_processes_share_one_study(tmp_path: Path) -> None:
    # trial 0 ends only once trial 1 has started: the other sweep runs it, so both overlap
    sweep = ("hydra.sweeper.n_trials=10", "steps=2", "hold=[0,1]")
    first = start_app(tmp_path, *sweep, log_name="first.log")
    second = start_app(tmp_path, *sweep, log_name="second.log")
    assert first.wait(timeout=180) == 0, (tmp_path / "first.log").read_text()
    assert second.wait(timeout=180) == 0, (tmp_path / "second.log").read_text()
    study = load_study(tmp_path)
    trials = study.get_trials(deepcopy=False)
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers))
    assert "held-too-long 1" not in _events(tmp_path)
    counts = states(study)
    assert counts.get("COMPLETE", 0) + counts.get("PRUNED", 0) == 10
    assert counts.get("RUNNING", 0) == 0
    # a FAIL can only be a trial that lost the race for the last slot, never a lost job
    assert all(t.user_attrs.get("evosweep.surplus") for t in trials if t.state.name == "FAIL")
    ran = [len(re.findall(r"Trial \d+ COMPLETE", (tmp_path / f"{n}.log").read_text()))
           for n in ("first", "second")]
    assert all(n >= 1 for n in ran) and sum(ran) == 10
    for folder in (tmp_path / "multirun").iterdir():
        if folder.is_dir():
            assert (folder / "runs.txt").read_text().count("\n") == 1


def test_two_sweeps_started_together_on_a_new_database(tmp_path: Path) -> None:
    sweep = ("hydra.sweeper.n_trials=4", "steps=1")
    procs = [start_app(tmp_path, *sweep, log_name=f"{n}.log") for n in ("a", "b")]
    for proc, name in zip(procs, ("a", "b"), strict=True):
        assert proc.wait(timeout=180) == 0, (tmp_path / f"{name}.log").read_text()
    counts = states(load_study(tmp_path))
    assert counts.get("COMPLETE", 0) == 4 and counts.get("RUNNING", 0) == 0
