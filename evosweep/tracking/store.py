"""Where MLflow stores live: relative sqlite paths, the schema-creation lock, experiments.

A relative ``sqlite:///outputs/mlflow.db`` is resolved against the folder the
command was launched from (Hydra's original cwd), never against a job's own
folder, so runs, sweep parents and reports always meet in one store. A server
(``http://``) or database store is checked to answer before it is used.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

from evosweep.tracking.db_urls import with_connect_timeout, with_driver
from evosweep.tracking.preflight import check_tracking_store, is_http

SQLITE_PREFIX = "sqlite:///"


def launch_dir() -> Path:
    """The folder the command was started in (Hydra's ``runtime.cwd`` inside a Hydra job)."""
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        return Path(HydraConfig.get().runtime.cwd)
    return Path.cwd()


def absolute_store_uri(uri: str, base_dir: Path | None = None) -> str:
    """A relative ``sqlite:///path`` made absolute against ``base_dir`` (its folder created).

    A bare ``postgresql://`` gets the installed driver (``postgresql+psycopg://``).
    """
    uri = with_driver(uri)
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
    A server or database that does not answer raises ConfigError("tracking.uri", ...).
    """
    from mlflow.tracking import MlflowClient

    if not uri.startswith(SQLITE_PREFIX):
        uri = with_driver(uri)
        check_tracking_store(uri)
        return MlflowClient(tracking_uri=with_connect_timeout(uri))
    lock_path = Path(uri[len(SQLITE_PREFIX):] + ".lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            client = MlflowClient(tracking_uri=uri)
            client.search_experiments(max_results=1)  # opens the store: creates/migrates the schema
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return client


def artifact_folder_for(uri: str, folder: Path) -> Path | None:
    """Where a new experiment keeps its artifacts: ``folder``, or None for a tracking server.

    A server stores them itself (``mlflow server --artifacts-destination``), so runs on
    other machines upload through it instead of writing to a path only one machine has.
    """
    return None if is_http(uri) else folder


def ensure_experiment(client: Any, name: str, artifact_location: Path | None) -> str:
    """The experiment's id, created with its artifacts in ``artifact_location`` if missing.

    ``None``: the store's default (a server's proxied artifact destination).
    """
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    location = None
    if artifact_location is not None:
        artifact_location.mkdir(parents=True, exist_ok=True)
        location = artifact_location.as_uri()
    try:
        return client.create_experiment(name, artifact_location=location)
    except MlflowException:  # another process created it first
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


def tracking_errors() -> tuple[type[BaseException], ...]:
    """The errors a store or server can raise: MLflow's own and network/disk ones."""
    from mlflow.exceptions import MlflowException

    return (MlflowException, OSError)
