"""Database URLs of Optuna studies and MLflow stores: the PostgreSQL driver, connect timeouts.

SQLAlchemy reads a bare ``postgresql://`` as ``postgresql+psycopg2://``; evosweep installs
psycopg 3, so such URLs get its driver. Every PostgreSQL connection gives up after
:data:`CONNECT_TIMEOUT_S` instead of waiting on a host that does not answer.
"""

from __future__ import annotations

from typing import Any

CONNECT_TIMEOUT_S = 5
_BARE_POSTGRES = ("postgresql://", "postgres://")
POSTGRES_DRIVER = "postgresql+psycopg://"


def with_driver(url: str) -> str:
    """``url`` with psycopg as the driver when it names PostgreSQL without one."""
    for prefix in _BARE_POSTGRES:
        if url.startswith(prefix):
            return POSTGRES_DRIVER + url[len(prefix):]
    return url


def is_postgres(url: str) -> bool:
    """True for any PostgreSQL URL (with or without a driver)."""
    return url.startswith(("postgresql", "postgres:"))


def connect_args(url: str) -> dict[str, Any]:
    """Driver arguments: a bounded connect time for PostgreSQL, none otherwise."""
    return {"connect_timeout": CONNECT_TIMEOUT_S} if is_postgres(url) else {}


def with_connect_timeout(url: str) -> str:
    """A PostgreSQL ``url`` whose connections give up after CONNECT_TIMEOUT_S (for MLflow's engine)."""
    if not is_postgres(url) or "connect_timeout=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}connect_timeout={CONNECT_TIMEOUT_S}"
