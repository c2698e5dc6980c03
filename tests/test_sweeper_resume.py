"""Kill a 12-trial sweep half-way (at a kill point), rerun the same command: exactly 12 finished trials,
no job folder overwritten, and the median pruner prunes through the storage."""

from __future__ import annotations

import signal
from pathlib import Path

import optuna
from sweeper_app.harness import load_study, run_app, states

from evosweep.testing_hooks import ENV

SWEEP = (
    "hydra.sweeper.n_trials=12",
    "hydra.sweeper.pruner={name: median, n_startup_trials: 2}",
    "hydra.sweeper.heartbeat_interval=1",
    "hydra.sweeper.grace_period=2",
    "steps=3",
    "sleep=0.1",
)


def test_killed_sweep_resumes_to_exactly_n_trials(tmp_path: Path) -> None:
    # SIGKILLed once trial 6's job returned, before its result is told: 6 trials done, 1 RUNNING
    killed = run_app(tmp_path, *SWEEP, check=False, env={ENV: "sweep.job_returned@6"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    before = states(load_study(tmp_path))
    assert before.get("COMPLETE", 0) + before.get("PRUNED", 0) == 6 and before.get("RUNNING") == 1, before

    run_app(tmp_path, *SWEEP)  # the same command again

    study = load_study(tmp_path)
    trials = study.get_trials(deepcopy=False)
    after = states(study)
    assert after.get("COMPLETE", 0) + after.get("PRUNED", 0) == 12
    assert after.get("PRUNED", 0) >= 1
    assert after.get("RUNNING", 0) == 0
    assert after.get("FAIL", 0) == 1 and trials[6].state.name == "FAIL"  # killed mid-trial: stale
    assert set(after) <= {"COMPLETE", "PRUNED", "FAIL"}
    numbers = [t.number for t in trials]
    assert numbers == list(range(len(trials)))
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    assert all(t.intermediate_values for t in pruned)
    # every job folder (named by trial number) was written by one run only, the killed trial's too
    folders = [p for p in (tmp_path / "multirun").iterdir() if p.is_dir()]
    assert sorted(int(p.name) for p in folders) == numbers
    for folder in folders:
        assert (folder / "runs.txt").read_text().count("\n") == 1, folder
