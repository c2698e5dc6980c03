"""A finished Hydra job -> the Optuna trial state and value(s) to tell the study.

A job that raised ``optuna.TrialPruned`` (stored in its JobReturn, pickled across
processes by the joblib launcher) is PRUNED; any other exception is FAIL; otherwise
the return value must be a number, or a list of numbers as long as ``direction``.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import optuna
from hydra.core.utils import JobReturn, JobStatus
from optuna.trial import TrialState


@dataclass
class TrialOutcome:
    """What to tell the study about one trial, and why when it is not COMPLETE."""

    state: TrialState
    values: list[float] | None = None
    error: BaseException | None = None
    message: str = ""
    # The job's value does not fit hydra.sweeper.direction: a config error, stop the sweep.
    config_error: bool = False


def outcome_of(job: JobReturn, n_objectives: int) -> TrialOutcome:
    """Classify ``job``'s result for a study with ``n_objectives`` directions."""
    if job.status == JobStatus.FAILED:
        error = getattr(job, "_return_value", None)  # read without Hydra's stderr banner
        if isinstance(error, optuna.TrialPruned):
            return TrialOutcome(TrialState.PRUNED, error=error, message=str(error) or "pruned")
        text = f"{type(error).__name__}: {error}" if error is not None else "job failed"
        return TrialOutcome(TrialState.FAIL, error=error, message=text)
    if job.status != JobStatus.COMPLETED:
        return TrialOutcome(TrialState.FAIL, message=f"job status {job.status}")
    return values_outcome(job.return_value, n_objectives)


def values_outcome(value: Any, n_objectives: int) -> TrialOutcome:
    """A job's return value -> COMPLETE with floats, or FAIL saying what is wrong."""
    raw = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    if len(raw) != n_objectives:
        return TrialOutcome(
            TrialState.FAIL,
            message=(
                f"hydra.sweeper.direction: the job returned {len(raw)} value(s) {value!r} "
                f"but direction lists {n_objectives}"
            ),
            config_error=True,
        )
    try:
        values = [float(v) for v in raw]
    except (TypeError, ValueError):
        return TrialOutcome(
            TrialState.FAIL, message=f"the job returned {value!r}, not a number", config_error=True
        )
    if not all(math.isfinite(v) for v in values):
        return TrialOutcome(TrialState.FAIL, message=f"the job returned a non-finite value {values}")
    return TrialOutcome(TrialState.COMPLETE, values=values)
