"""The job's side of an Optuna trial: report per-generation fitness, stop when pruned.

The evosweep sweeper (``hydra/sweeper=evosweep_optuna``) fills the config node
``optuna_trial`` of every trial it launches::

    optuna_trial: {storage: <Optuna URL>, study_name: ..., trial_id: 7, trial_number: 3,
                   mlflow_parent_run_id: <run id or null>}

The job reaches the trial through the storage, so this works in any process (joblib
workers, another machine sharing the database). Usage in a run loop::

    reporter = TrialReporter.from_config(cfg.optuna_trial)   # None outside a sweep
    for generation in ...:
        if reporter is not None:
            reporter.report(generation, heldout_best)        # raises optuna.TrialPruned
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import optuna

from evosweep.errors import ConfigError
from evosweep.sweep.optuna_specs import open_storage, pruner_of

log = logging.getLogger(__name__)


class TrialReporter:
    """Reports intermediate values of one running trial and applies the study's pruner."""

    def __init__(self, trial: optuna.trial.Trial, trial_number: int) -> None:
        self.trial = trial
        self.trial_number = trial_number
        # Optuna reports and prunes single-objective studies only; otherwise report is a no-op.
        self.enabled = len(trial.study.directions) == 1
        self._warned = False

    @classmethod
    def from_config(cls, trial_cfg: Mapping[str, Any] | None) -> TrialReporter | None:
        """The reporter for the ``optuna_trial`` node, or None when the run is no trial."""
        if trial_cfg is None:
            return None
        missing = [k for k in ("storage", "study_name", "trial_id") if trial_cfg.get(k) is None]
        if missing:
            listed = ", ".join(missing)
            raise ConfigError("optuna_trial", f"missing {listed} (the sweeper sets it; leave it null)")
        storage = open_storage(str(trial_cfg["storage"]), "optuna_trial.storage")
        study = optuna.load_study(
            study_name=str(trial_cfg["study_name"]),
            storage=storage,
            sampler=optuna.samplers.RandomSampler(),  # the job samples nothing
        )
        study.pruner = pruner_of(study)
        trial = optuna.trial.Trial(study, int(trial_cfg["trial_id"]))
        number = trial_cfg.get("trial_number")
        return cls(trial, int(number) if number is not None else trial.number)

    @staticmethod
    def is_pruned(error: BaseException) -> bool:
        """Whether ``error`` is the pruner's stop (``optuna.TrialPruned``, raised by :meth:`report`)."""
        return isinstance(error, optuna.TrialPruned)

    def report(self, step: int, value: float) -> None:
        """Record ``value`` at ``step``; raise ``optuna.TrialPruned`` if the pruner says so."""
        if not self.enabled:
            return
        try:
            self.trial.report(float(value), int(step))
            prune = self.trial.should_prune()
        except optuna.exceptions.UpdateFinishedTrialError:
            # The sweep that owned the trial is gone and the trial was failed as stale.
            if not self._warned:
                log.warning("optuna trial %d is already finished; not reporting", self.trial_number)
                self._warned = True
            return
        if prune:
            raise optuna.TrialPruned(f"trial {self.trial_number} pruned at step {step}")

