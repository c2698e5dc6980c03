"""MLflow tracking, the only module that imports mlflow.

One MLflow run per Hydra job: the resolved config as params, metrics per
generation (step = generation), the best adapter, config and plots as artifacts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from evosweep.errors import TrackingError, one_line
from evosweep.settings.tracking import TrackingSettings
from evosweep.tracking.datasets import DatasetRecord
from evosweep.tracking.store import (
    absolute_folder,
    absolute_store_uri,
    artifact_folder_for,
    ensure_experiment,
    open_mlflow_client,
    tracking_errors,
)

if TYPE_CHECKING:
    from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

log = logging.getLogger(__name__)

MAX_PARAM_LENGTH = 6000
PARAM_BATCH = 100


class NullTracker:
    """``tracking=none``: records nothing."""

    run_id: str | None = None

    def start(self, params: dict, tags: dict, run_id: str | None = None) -> None:
        pass

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        pass

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        pass

    def set_tags(self, tags: dict[str, str]) -> None:
        pass

    def log_datasets(self, datasets: list[DatasetRecord]) -> None:
        pass

    def logged_steps(self, key: str) -> set[int]:
        """Steps already recorded for metric ``key`` (a resumed run re-logs only the rest)."""
        return set()

    def end(self, status: str = "FINISHED") -> None:
        pass


class MlflowTracker(NullTracker):
    """Records one run through an explicit ``MlflowClient`` (no global fluent state).

    A store that fails mid-run raises :class:`TrackingError` (one line naming ``tracking.uri``);
    ``end`` only warns, so the error that stopped the run is the one reported.
    """

    def __init__(self, settings: TrackingSettings) -> None:
        self.settings = settings
        self.uri = absolute_store_uri(settings.uri)
        self.client = open_mlflow_client(self.uri)
        self.run_id = None
        self.system_monitor: SystemMetricsMonitor | None = None  # while a run is open

    def start(self, params: dict, tags: dict, run_id: str | None = None) -> None:
        """Start a new run, or reopen ``run_id`` (resume) without re-logging params."""
        with self._store_call():
            self._start(params, tags, run_id)

    def _start(self, params: dict, tags: dict, run_id: str | None) -> None:
        if run_id is not None:
            self.client.update_run(run_id, status="RUNNING")
            self.run_id = run_id
        else:
            folder = artifact_folder_for(self.uri, absolute_folder(self.settings.artifact_location))
            experiment_id = ensure_experiment(self.client, self.settings.experiment, folder)
            run = self.client.create_run(experiment_id, tags=tags, run_name=self.settings.run_name)
            self.run_id = run.info.run_id
            self._log_params(params)
        self._watch_system(resumed=run_id is not None)

    def _watch_system(self, resumed: bool) -> None:
        """MLflow's own system/* metrics (CPU, memory, disk, network; GPU where it can read it)."""
        if self.settings.system_metrics_every_s is None:
            return
        from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

        logging.getLogger("mlflow.system_metrics").setLevel(logging.WARNING)  # no start/stop lines
        monitor = SystemMetricsMonitor(
            self.run_id, sampling_interval=self.settings.system_metrics_every_s,
            resume_logging=resumed, tracking_uri=self.uri)
        monitor.start()
        self.system_monitor = monitor

    def _log_params(self, params: dict) -> None:
        from mlflow.entities import Param

        items = [Param(key, str(value)[:MAX_PARAM_LENGTH]) for key, value in params.items()]
        for start in range(0, len(items), PARAM_BATCH):
            self.client.log_batch(self.run_id, params=items[start : start + PARAM_BATCH])

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        batch = [Metric(key, float(value), now, step) for key, value in metrics.items()]
        with self._store_call():
            self.client.log_batch(self.run_id, metrics=batch)

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        path = Path(path)
        with self._store_call():
            if path.is_dir():
                self.client.log_artifacts(self.run_id, str(path), artifact_path)
            else:
                self.client.log_artifact(self.run_id, str(path), artifact_path)

    def set_tags(self, tags: dict[str, str]) -> None:
        with self._store_call():
            for key, value in tags.items():
                self.client.set_tag(self.run_id, key, str(value))

    def log_datasets(self, datasets: list[DatasetRecord]) -> None:
        """The task's splits as MLflow dataset inputs (the runs table's Dataset column)."""
        from mlflow.entities import Dataset, DatasetInput, InputTag

        inputs = [DatasetInput(Dataset(d.name, d.digest, "local", d.source, d.schema, d.profile),
                               tags=[InputTag("mlflow.data.context", d.context)]) for d in datasets]
        # runs that start together race to create the same dataset row (a unique-key error on a
        # PostgreSQL store): the second try finds the row; the splits describe, the run goes on
        for attempt in (1, 2):
            try:
                self.client.log_inputs(self.run_id, datasets=inputs)
                return
            except tracking_errors() as error:
                if attempt == 2:
                    log.warning("could not log the task's datasets to MLflow run %s: %s", self.run_id,
                                one_line(error))
                else:
                    time.sleep(0.5)

    def logged_steps(self, key: str) -> set[int]:
        with self._store_call():
            return {metric.step for metric in self.client.get_metric_history(self.run_id, key)}

    def end(self, status: str = "FINISHED") -> None:
        if self.run_id is None:
            return
        if self.system_monitor is not None:
            self.system_monitor.finish()
            self.system_monitor = None
        try:
            self.client.set_terminated(self.run_id, status=status)
        except tracking_errors() as error:
            log.warning("could not mark MLflow run %s %s: %s", self.run_id, status, one_line(error))

    @contextmanager
    def _store_call(self) -> Iterator[None]:
        """MLflow's and the network's errors as one TrackingError naming the store."""
        try:
            yield
        except tracking_errors() as error:
            message = f"the store at {self.uri} failed: {one_line(error)}"
            raise TrackingError("tracking.uri", message) from None


def make_tracker(settings: TrackingSettings) -> NullTracker:
    """The tracker the settings ask for."""
    return MlflowTracker(settings) if settings.enabled else NullTracker()
