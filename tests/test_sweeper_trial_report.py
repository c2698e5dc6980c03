"""evosweep.sweep.pruning: the job reports through the storage and is pruned by the study's pruner."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from evosweep.sweep.optuna_specs import PRUNER_ATTR
from evosweep.sweep.pruning import TrialReporter


def _study(tmp_path: Path, pruner_spec: object) -> tuple[optuna.Study, str]:
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(storage=url, study_name="s", direction="maximize")
    study.set_user_attr(PRUNER_ATTR, pruner_spec)
    return study, url


def _node(url: str, trial: optuna.trial.Trial) -> dict:
    return {"storage": url, "study_name": "s", "trial_id": trial._trial_id,
            "trial_number": trial.number, "mlflow_parent_run_id": None}


def test_none_outside_a_sweep() -> None:
    assert TrialReporter.from_config(None) is None


def test_missing_fields_are_named() -> None:
    with pytest.raises(ValueError, match="optuna_trial: missing storage"):
        TrialReporter.from_config({"study_name": "s", "trial_id": 1})


def test_reports_and_prunes_like_the_median_pruner(tmp_path: Path) -> None:
    study, url = _study(tmp_path, {"name": "median", "n_startup_trials": 2})
    for good in (1.0, 0.9):  # two finished trials that reached 0.9+ at every step
        trial = study.ask()
        for step in range(3):
            trial.report(good, step)
        study.tell(trial, good)
    trial = study.ask()
    reporter = TrialReporter.from_config(_node(url, trial))
    assert reporter is not None and reporter.trial_number == trial.number
    reporter.report(0, 0.98)  # better than the median (0.95): goes on
    bad = study.ask()
    bad_reporter = TrialReporter.from_config(_node(url, bad))
    with pytest.raises(optuna.TrialPruned, match=f"trial {bad.number} pruned at step 0"):
        bad_reporter.report(0, 0.1)
    assert study.trials[trial.number].intermediate_values == {0: 0.98}
    assert study.trials[bad.number].intermediate_values == {0: 0.1}


def test_no_pruner_never_prunes(tmp_path: Path) -> None:
    study, url = _study(tmp_path, None)
    trial = study.ask()
    reporter = TrialReporter.from_config(_node(url, trial))
    for step in range(3):
        reporter.report(step, -1e9)  # would be pruned by any pruner after the first trial
    assert study.trials[trial.number].intermediate_values == {0: -1e9, 1: -1e9, 2: -1e9}
    assert study.trials[trial.number].state == optuna.trial.TrialState.RUNNING


def test_finished_trial_is_not_an_error(tmp_path: Path) -> None:
    study, url = _study(tmp_path, "median")
    trial = study.ask()
    reporter = TrialReporter.from_config(_node(url, trial))
    study.tell(trial, state=optuna.trial.TrialState.FAIL)  # e.g. failed as stale meanwhile
    reporter.report(0, 1.0)  # warns once, raises nothing
    assert study.trials[trial.number].intermediate_values == {}


def test_only_optuna_s_trial_pruned_counts_as_pruned() -> None:
    """A run is marked PRUNED for optuna.TrialPruned itself, not for any class of that name."""

    class TrialPruned(Exception):  # an impostor: same name, another class
        pass

    assert TrialReporter.is_pruned(optuna.TrialPruned("at step 2"))
    assert not TrialReporter.is_pruned(TrialPruned())
    assert not TrialReporter.is_pruned(ValueError("x"))
