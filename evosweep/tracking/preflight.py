"""Check, before any model is loaded, that a store or server answers: one line, within seconds.

MLflow's HTTP client retries with growing back-off for minutes and a database driver may
wait on a silent host; these checks ask once with a short timeout and name the setting.
:func:`fail_fast_http` bounds MLflow's retries for the rest of the process, so a server
that goes away mid-run stops the run in seconds instead of hanging it.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request

from evosweep.errors import ConfigError, one_line
from evosweep.tracking.db_urls import CONNECT_TIMEOUT_S, connect_args

HEALTH_TIMEOUT_S = 5
#: MLflow's HTTP client settings while a run logs to a server (MLflow: 7 retries, factor 2, 120 s)
FAIL_FAST_HTTP = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
SERVER_HINT = "start one with `make server` (or use a local store: sqlite:///outputs/mlflow.db)"


def is_http(uri: str) -> bool:
    """True for an MLflow tracking server URI."""
    return uri.startswith(("http://", "https://"))


def is_database(uri: str) -> bool:
    """True for a SQLAlchemy database URL other than sqlite (a server to reach)."""
    scheme = uri.split(":", 1)[0].split("+", 1)[0]
    return scheme in ("postgresql", "postgres", "mysql", "mssql")


def fail_fast_http() -> None:
    """Bound MLflow's HTTP retries and timeouts in this process (explicit settings win)."""
    for name, value in FAIL_FAST_HTTP.items():
        os.environ.setdefault(name, value)


def check_mlflow_server(uri: str, field: str = "tracking.uri") -> None:
    """Raise ConfigError naming ``field`` unless an MLflow server answers ``/health`` at ``uri``."""
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=HEALTH_TIMEOUT_S) as reply:
            if reply.status == 200:
                return
            reason = f"HTTP {reply.status}"
    except urllib.error.HTTPError as error:
        reason = f"HTTP {error.code} on /health"
    except (OSError, ValueError) as error:
        reason = one_line(getattr(error, "reason", None) or error)
    raise ConfigError(field, f"no MLflow server answers at {uri} ({reason}); {SERVER_HINT}")


def check_database(url: str, field: str) -> None:
    """Raise ConfigError naming ``field`` unless the database at ``url`` accepts a connection."""
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    shown = _hide_password(url)
    try:
        engine = sqlalchemy.create_engine(url, poolclass=NullPool, connect_args=connect_args(url))
    except (ImportError, sqlalchemy.exc.ArgumentError) as error:
        raise ConfigError(field, f"cannot use {shown}: {one_line(error)} (for PostgreSQL write "
                                 "postgresql+psycopg://user@host:port/db)") from None
    try:
        with engine.connect():
            return
    except sqlalchemy.exc.SQLAlchemyError as error:
        orig = error.orig if isinstance(error, sqlalchemy.exc.StatementError) else None
        cause = one_line(orig if orig is not None else error)
        raise ConfigError(field, f"cannot connect to {shown} within {CONNECT_TIMEOUT_S} s ({cause}); "
                                 "is the database server running and the database created?") from None
    finally:
        engine.dispose()


def check_tracking_store(uri: str, field: str = "tracking.uri") -> None:
    """Check a tracking server or database answers (sqlite and file stores need nothing)."""
    if is_http(uri):
        check_mlflow_server(uri, field)
        fail_fast_http()
    elif is_database(uri):
        check_database(uri, field)


def _hide_password(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: show it as given
        return url
