"""The grid sampler stops the sweep once its grid is done (Optuna's study.stop() from tell)."""

from __future__ import annotations

from pathlib import Path

from sweeper_app.harness import load_study, run_app


def test_a_finished_grid_ends_the_sweep_below_n_trials(tmp_path: Path) -> None:
    run_app(tmp_path, "hydra/sweeper/sampler=grid", "x=choice(0.5,1.5)", "y=choice(0,5)",
            "hydra.sweeper.n_trials=10", "hydra.sweeper.n_jobs=2", "steps=1")
    trials = load_study(tmp_path).trials
    assert sorted((t.params["x"], t.params["y"]) for t in trials) == [(0.5, 0), (0.5, 5), (1.5, 0), (1.5, 5)]
    assert {t.state.name for t in trials} == {"COMPLETE"}
