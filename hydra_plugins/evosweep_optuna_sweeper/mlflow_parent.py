"""MLflow for a sweep: one parent run per study, one child run per trial.

Settings come from the composed job config (``tracking.enabled/uri/experiment/
artifact_location``). The parent run's id is kept in the study's user attributes, so a
resumed sweep, or a second sweep process on the same study, logs under the same parent.
Each job tags its own run as a child (``mlflow.parentRunId``); after every trial the
sweeper sets the child's final ``optuna.state``, creates the child itself when the
job logged none (it crashed before, or does not track), and ends a child its dead job
left RUNNING.
"""

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna

from evosweep.settings.tracking import TrackingSettings
from evosweep.tracking.store import (
    absolute_folder,
    absolute_store_uri,
    artifact_folder_for,
    ensure_experiment,
    open_mlflow_client,
)

log = logging.getLogger(__name__)

PARENT_ATTR = "evosweep.mlflow_parent_run_id"
TRACKING_KEYS = ("enabled", "uri", "experiment", "artifact_location")
#: sweeps whose parent runs started this close together are one race for the parent
PARENT_RACE_WINDOW_S = 600
TAG_ATTEMPTS = 4
_RUN_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}


@dataclass
class SweepTrackingSettings:
    """The job config's ``tracking`` node, store and artifact folder made absolute."""

    uri: str
    experiment: str
    artifact_location: Path

    @classmethod
    def from_job_config(cls, cfg: Mapping[str, Any], base_dir: Path) -> "SweepTrackingSettings | None":
        """None when the config has no ``tracking`` node or ``tracking.enabled`` is false."""
        node = cfg.get("tracking")
        if not node or not node.get("enabled", False):
            return None
        settings = TrackingSettings(**{k: node[k] for k in TRACKING_KEYS if k in node})
        return cls(absolute_store_uri(settings.uri, base_dir), settings.experiment,
                   absolute_folder(settings.artifact_location, base_dir))


class SweepTracker:
    """Parent run of a study, its children's final states, and the best result at the end."""

    def __init__(self, settings: SweepTrackingSettings, study: optuna.Study) -> None:
        self.settings = settings
        self.study = study
        self.client = open_mlflow_client(settings.uri)
        self._lock = threading.Lock()
        folder = artifact_folder_for(settings.uri, settings.artifact_location)
        self.experiment_id = ensure_experiment(self.client, settings.experiment, folder)
        self.parent_run_id = self._parent_run()

    def _parent_run(self) -> str:
        known = self.study.user_attrs.get(PARENT_ATTR)
        if known and self._exists(known):
            self.client.update_run(known, status="RUNNING")
            return str(known)
        run = self.client.create_run(
            self.experiment_id,
            run_name=f"sweep-{self.study.study_name}",
            tags={"evosweep.role": "sweep", "optuna.study_name": self.study.study_name},
        )
        winner = self._first_parent(run.info.run_id)
        if winner != run.info.run_id:
            self.client.delete_run(run.info.run_id)
        self.study.set_user_attr(PARENT_ATTR, winner)
        return winner

    def _first_parent(self, own_run_id: str) -> str:
        """Sweeps that started the study at once all pick the parent run created first.

        Each sees at least its own run and every run created before it, so all agree on
        the earliest (start time, then id); the study attribute alone is last-write-wins.
        Only RUNNING parents started in the last minutes count: an old study's are not rivals.
        """
        since = int((time.time() - PARENT_RACE_WINDOW_S) * 1000)
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=(f"tags.`evosweep.role` = 'sweep' "
                           f"and tags.`optuna.study_name` = '{self.study.study_name}' "
                           f"and attributes.status = 'RUNNING' and attributes.start_time >= {since}"),
            max_results=1000,
        )
        candidates = [(r.info.start_time, r.info.run_id) for r in runs]
        return min(candidates)[1] if candidates else own_run_id

    def _exists(self, run_id: str) -> bool:
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST, ErrorCode

        try:
            run = self.client.get_run(run_id)
        except MlflowException as error:  # only "no such run": anything else must surface
            if error.error_code != ErrorCode.Name(RESOURCE_DOES_NOT_EXIST):
                raise
            return False
        return run.info.lifecycle_stage == "active" and run.info.experiment_id == self.experiment_id

    def log_sweep_settings(self, settings: Mapping[str, Any]) -> None:
        """Record the sweeper's settings on the parent (tags: a resume may change them)."""
        with self._lock:
            self._set_parent_tags({f"sweep.{key}": str(value)[:5000] for key, value in settings.items()})

    def _set_parent_tags(self, tags: Mapping[str, str]) -> None:
        """Tags on the shared parent; retried, since two sweeps writing one new tag at once
        collide in the store (a database store inserts both: one gets a unique-key error)."""
        from mlflow.entities import RunTag
        from mlflow.exceptions import MlflowException

        for attempt in range(TAG_ATTEMPTS):
            try:
                self.client.log_batch(self.parent_run_id, tags=[RunTag(k, v) for k, v in tags.items()])
                return
            except MlflowException:
                if attempt + 1 == TAG_ATTEMPTS:
                    raise
                time.sleep(0.2 * (attempt + 1))

    def trial_finished(self, trial: optuna.trial.FrozenTrial) -> None:
        """Tag the trial's child run with its final state (create the child if missing)."""
        state = trial.state.name
        with self._lock:
            child = self._find_child(trial.number)
            if child is None:
                child = self._create_child(trial)
            self.client.set_tag(child, "optuna.state", state)
            self.client.set_tag(child, "optuna.trial_number", str(trial.number))
            if self.client.get_run(child).info.status == "RUNNING":  # its job died: end it too
                self.client.set_terminated(child, status=_RUN_STATUS.get(state, "FAILED"))

    def _find_child(self, number: int) -> str | None:
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=(
                f"tags.`mlflow.parentRunId` = '{self.parent_run_id}' "
                f"and tags.`optuna.trial_number` = '{number}'"
            ),
            max_results=1,
        )
        return runs[0].info.run_id if runs else None

    def _create_child(self, trial: optuna.trial.FrozenTrial) -> str:
        from mlflow.entities import Metric, Param

        run = self.client.create_run(
            self.experiment_id,
            run_name=f"trial-{trial.number}",
            tags={"mlflow.parentRunId": self.parent_run_id},
        )
        run_id = run.info.run_id
        now = int(time.time() * 1000)
        params = [Param(k, str(v)[:5000]) for k, v in trial.params.items()]
        metrics = [Metric(f"objective_{i}" if i else "objective", float(v), now, 0)
                   for i, v in enumerate(trial.values or [])]
        metrics += [Metric("optuna/intermediate", float(v), now, int(step))
                    for step, v in trial.intermediate_values.items()]
        self.client.log_batch(run_id, metrics=metrics, params=params)
        self.client.set_terminated(run_id, status=_RUN_STATUS.get(trial.state.name, "FAILED"))
        return run_id

    def finish(self, summary: Mapping[str, Any], results_file: Path | None,
               status: str = "FINISHED") -> None:
        """Best params and value(s) on the parent, the results file as artifact, then end it."""
        from mlflow.entities import Metric, Param
        from mlflow.exceptions import MlflowException

        with self._lock:
            now = int(time.time() * 1000)
            done = int(summary.get("n_done", 0))
            best = summary.get("best_params") or {}
            self._set_parent_tags({f"best.{key}": str(value) for key, value in best.items()})
            try:  # params are write-once: a resume that found a better trial keeps the tags
                self.client.log_batch(
                    self.parent_run_id, params=[Param(f"best.{k}", str(v)) for k, v in best.items()]
                )
            except MlflowException:
                log.info("best params changed since the last run of this sweep: see tags best.*")
            values = summary.get("best_value")
            values = values if isinstance(values, list) else ([] if values is None else [values])
            metrics = [Metric("best_value" + (f"_{i}" if i else ""), float(v), now, done)
                       for i, v in enumerate(values)]
            for state, count in (summary.get("states") or {}).items():
                metrics.append(Metric(f"trials/{state.lower()}", float(count), now, done))
            self.client.log_batch(self.parent_run_id, metrics=metrics)
            if results_file is not None and results_file.exists():
                self.client.log_artifact(self.parent_run_id, str(results_file))
            self.client.set_terminated(self.parent_run_id, status=status)
