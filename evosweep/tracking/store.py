"""Where MLflow stores live: relative sqlite paths, the schema-creation lock, experiments.

A relative ``sqlite:///outputs/mlflow.db`` is resolved against the folder the
command was launched from (Hydra's original cwd), never against a job's own
folder, so runs, sweep parents and reports always meet in one store.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

SQLITE_PREFIX = "sqlite:///"


def launch_dir() -> Path:
    """The folder the command was started in (Hydra's ``runtime.cwd`` inside a Hydra job)."""
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        return Path(HydraConfig.get().runtime.cwd)
    return Path.cwd()


def absolute_store_uri(uri: str, base_dir: Path | None = None) -> str:
    """A relative ``sqlite:///path`` made absolute against ``base_dir`` (its folder created)."""
    if not uri.startswith(SQLITE_PREFIX) or uri == SQLITE_PREFIX + ":memory:":
        return uri
    path = Path(uri[len(SQLITE_PREFIX):])
    if not path.is_absolute():
        path = ((base_dir or launch_dir()) / path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLITE_PREFIX + str(path)


def absolute_folder(folder: str, base_dir: Path | None = None) -> Path:
    """``folder`` made absolute against ``base_dir`` (default: the launch folder)."""
    path = Path(folder).expanduser()
    return path if path.is_absolute() else ((base_dir or launch_dir()) / path).resolve()


def open_mlflow_client(uri: str) -> Any:
    """An ``MlflowClient`` whose store is ready; a new sqlite store is created under a file lock.

    MLflow migrates a fresh sqlite schema when its store is first opened; parallel
    jobs doing it at once fail with ``duplicate column name``. The lock serialises
    that first opening across processes; afterwards it costs one uncontended flock.
    """
    from mlflow.tracking import MlflowClient

    if not uri.startswith(SQLITE_PREFIX):
        return MlflowClient(tracking_uri=uri)
    lock_path = Path(uri[len(SQLITE_PREFIX):] + ".lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            client = MlflowClient(tracking_uri=uri)
            client.search_experiments(max_results=1)  # opens the store: creates/migrates the schema
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return client


def ensure_experiment(client: Any, name: str, artifact_location: Path) -> str:
    """The experiment's id, created with its artifacts in ``artifact_location`` if missing."""
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    artifact_location.mkdir(parents=True, exist_ok=True)
    try:
        return client.create_experiment(name, artifact_location=artifact_location.as_uri())
    except MlflowException:  # another process created it first
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


def tracking_errors() -> tuple[type[BaseException], ...]:
    """The errors a store or server can raise: MLflow's own and network/disk ones."""
    from mlflow.exceptions import MlflowException

    return (MlflowException, OSError)
