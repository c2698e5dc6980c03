"""A finished job's JobReturn -> the trial state told to the study."""

from __future__ import annotations

import pickle

import optuna
import pytest
from hydra.core.utils import JobReturn, JobStatus
from optuna.trial import TrialState

from hydra_plugins.evosweep_optuna_sweeper.outcome import outcome_of


def _job(status: JobStatus, value: object) -> JobReturn:
    job = JobReturn()
    job.status = status
    job.return_value = value
    return job


def test_complete_single_value() -> None:
    out = outcome_of(_job(JobStatus.COMPLETED, 0.5), 1)
    assert (out.state, out.values) == (TrialState.COMPLETE, [0.5])


def test_complete_two_values() -> None:
    out = outcome_of(_job(JobStatus.COMPLETED, [1, 2.5]), 2)
    assert (out.state, out.values) == (TrialState.COMPLETE, [1.0, 2.5])


def test_pruned_survives_pickling() -> None:
    """The joblib launcher pickles the JobReturn, exception included."""
    job = pickle.loads(pickle.dumps(_job(JobStatus.FAILED, optuna.TrialPruned("at step 2"))))
    out = outcome_of(job, 1)
    assert out.state == TrialState.PRUNED


def test_other_exception_fails() -> None:
    out = outcome_of(_job(JobStatus.FAILED, RuntimeError("boom")), 1)
    assert out.state == TrialState.FAIL and "RuntimeError: boom" in out.message
    assert not out.config_error


@pytest.mark.parametrize(("value", "n"), [(0.5, 2), ([1.0, 2.0], 1), ([1.0, 2.0, 3.0], 2)])
def test_value_count_must_match_direction(value: object, n: int) -> None:
    out = outcome_of(_job(JobStatus.COMPLETED, value), n)
    assert out.state == TrialState.FAIL and out.config_error
    assert out.message.startswith("hydra.sweeper.direction:")


@pytest.mark.parametrize("value", [None, "abc", float("nan")])
def test_non_numbers_fail(value: object) -> None:
    assert outcome_of(_job(JobStatus.COMPLETED, value), 1).state == TrialState.FAIL
