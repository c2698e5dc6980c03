"""The sweeper end to end on the toy app (subprocesses of a few seconds each)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sweeper_app.harness import load_study, run_app, states


def test_official_params_block_runs_unchanged(tmp_path: Path) -> None:
    """conf/config.yaml holds the official plugin's documented sweeper block verbatim."""
    run_app(tmp_path, "hydra.sweeper.n_trials=3")
    results = yaml.safe_load((tmp_path / "multirun" / "optimization_results.yaml").read_text())
    assert set(results) >= {"name", "best_params", "best_value"}
    assert set(results["best_params"]) == {"x", "y"}
    assert states(load_study(tmp_path)) == {"COMPLETE": 3}
    # one job folder per trial, named by the trial number, each run once
    for number in range(3):
        assert (tmp_path / "multirun" / str(number) / "runs.txt").read_text().count("\n") == 1


def test_official_sweeper_block_with_sampler_group(tmp_path: Path) -> None:
    """conf/official.yaml: the official documented block, `override hydra/sweeper/sampler`."""
    run_app(tmp_path, "--config-name", "official", "hydra.sweeper.n_trials=2")
    assert states(load_study(tmp_path)) == {"COMPLETE": 2}


@pytest.mark.parametrize(
    ("overrides", "sampler"),
    [
        (("hydra/sweeper/sampler=random", "hydra.sweeper.sampler.seed=1"), "RandomSampler"),
        (("hydra.sweeper.sampler=qmc",), "QMCSampler"),
        (("hydra.sweeper.sampler.seed=7", "+hydra.sweeper.sampler.n_startup_trials=1"),
         "TPESampler"),
    ],
)
def test_choosing_the_sampler(tmp_path: Path, overrides: tuple[str, ...], sampler: str) -> None:
    proc = run_app(tmp_path, "hydra.sweeper.n_trials=1", *overrides)
    assert f"sampler {sampler}," in proc.stderr + proc.stdout


@pytest.mark.parametrize(
    "overrides",
    [  # the command-line examples of the official documentation
        ("x=interval(-5.0, 5.0)", "y=interval(0, 10)"),
        ("x=int(interval(-5.0, 5.0))", "y=tag(log, interval(1, 10))"),
        ("x=range(-5.0, 5.0)", "y=shuffle(range(-5, 5))"),
        ("x=choice(-5.0, 0.0, 5.0)", "y=choice(0, 1, 2, 3, 4, 5)"),
    ],
)
def test_official_command_line_examples(tmp_path: Path, overrides: tuple[str, str]) -> None:
    run_app(tmp_path, "hydra.sweeper.n_trials=2", "hydra.sweeper.sampler=random", *overrides)
    assert states(load_study(tmp_path)) == {"COMPLETE": 2}


def test_resume_counts_finished_trials_and_keeps_folders(tmp_path: Path) -> None:
    run_app(tmp_path, "hydra.sweeper.n_trials=2")
    run_app(tmp_path, "hydra.sweeper.n_trials=4")
    study = load_study(tmp_path)
    assert [t.number for t in study.trials] == [0, 1, 2, 3]
    for number in range(4):
        assert (tmp_path / "multirun" / str(number) / "runs.txt").read_text().count("\n") == 1
    run_app(tmp_path, "hydra.sweeper.n_trials=4")  # already done: runs nothing
    assert len(load_study(tmp_path).trials) == 4


def test_multi_objective(tmp_path: Path) -> None:
    run_app(tmp_path, "hydra.sweeper.n_trials=3", "n_objectives=2",
            "hydra.sweeper.direction=[minimize,minimize]", "hydra.sweeper.sampler=nsgaii")
    results = yaml.safe_load((tmp_path / "multirun" / "optimization_results.yaml").read_text())
    assert results["solutions"] and all(len(s["values"]) == 2 for s in results["solutions"])


def test_custom_search_space(tmp_path: Path) -> None:
    run_app(tmp_path, "hydra.sweeper.n_trials=2",
            "hydra.sweeper.custom_search_space=.app.widen_y")
    for trial in load_study(tmp_path).trials:
        assert set(trial.params) == {"x", "y", "+z"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("hydra.sweeper.sampler=foo",),
         "hydra.sweeper.sampler: unknown sampler 'foo'; choose one of tpe, random"),
        (("x=interval(3, 1)",), "command line: bad interval(3.0, 1.0)"),
        (("hydra.sweeper.params.y='interval(2, 1)'",),
         "hydra.sweeper.params.y: bad interval(2.0, 1.0)"),
        (("hydra.sweeper.direction=sideways",), "hydra.sweeper.direction: 'sideways'"),
        (("hydra.sweeper.pruner=foo",), "hydra.sweeper.pruner: unknown pruner 'foo'"),
        (("hydra.sweeper.n_trials=0",), "hydra.sweeper.n_trials: expected an integer >= 1"),
        (("nosuchkey=choice(1, 2)",), "hydra.sweeper.params.nosuchkey: [x=-5.5, y=-5, nosuchkey=1]"
                                      " does not compose: Could not override 'nosuchkey'"),
        (("hydra.sweeper.custom_search_space=no.such.fn",),
         "hydra.sweeper.custom_search_space: cannot load"),
    ],
)
def test_config_errors_fail_before_any_trial(tmp_path: Path, overrides: tuple[str, ...],
                                            message: str) -> None:
    proc = run_app(tmp_path, *overrides, check=False)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert not (tmp_path / "multirun" / "0").exists()
    db = tmp_path / "outputs" / "optuna.db"
    assert not db.exists() or not load_study(tmp_path).trials


def test_direction_count_must_match_existing_study(tmp_path: Path) -> None:
    run_app(tmp_path, "hydra.sweeper.n_trials=1")
    proc = run_app(tmp_path, "hydra.sweeper.n_trials=2", "n_objectives=2",
                   "hydra.sweeper.direction=[minimize,minimize]", check=False)
    assert proc.returncode != 0
    assert "hydra.sweeper.direction: study 'sphere' already exists with directions" in proc.stderr
    assert len(load_study(tmp_path).trials) == 1


def test_objective_length_mismatch_stops_the_sweep(tmp_path: Path) -> None:
    proc = run_app(tmp_path, "hydra.sweeper.n_trials=4",
                   "hydra.sweeper.direction=[minimize,minimize]", check=False)
    assert proc.returncode != 0
    assert "hydra.sweeper.direction: the job returned 1 value(s)" in proc.stderr
    assert states(load_study(tmp_path, "sphere")) == {"FAIL": 1}


def test_failed_job_fails_trial_and_stops_at_max_failure_rate(tmp_path: Path) -> None:
    proc = run_app(tmp_path, "hydra.sweeper.n_trials=3", "fail=true", check=False)
    assert proc.returncode != 0
    assert "exceed hydra.sweeper.max_failure_rate=0.0" in proc.stderr
    assert states(load_study(tmp_path)) == {"FAIL": 1}
