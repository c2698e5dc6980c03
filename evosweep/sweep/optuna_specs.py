"""Optuna pruners from plain specs, and the study storage: shared by the sweeper and its jobs.

A spec is a name (``median``), a mapping with ``name`` and the class's arguments
(``{name: median, n_startup_trials: 2}``) or a mapping with ``_target_`` (the
official Hydra plugin's form). Pruner specs are plain JSON, stored on the study
(:data:`PRUNER_ATTR`), so a job in another process rebuilds the same pruner.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import optuna
import sqlalchemy.exc
from hydra.utils import instantiate
from optuna.storages import RDBStorage

from evosweep.errors import ConfigError, one_line
from evosweep.tracking.db_urls import connect_args, with_driver
from evosweep.tracking.preflight import check_database, is_database

PRUNER_FIELD = "hydra.sweeper.pruner"
#: study user attribute holding the pruner spec (plain JSON)
PRUNER_ATTR = "evosweep.pruner"
PRUNERS: dict[str, str] = {
    "median": "optuna.pruners.MedianPruner",
    "percentile": "optuna.pruners.PercentilePruner",
    "hyperband": "optuna.pruners.HyperbandPruner",
    "successive_halving": "optuna.pruners.SuccessiveHalvingPruner",
    "threshold": "optuna.pruners.ThresholdPruner",
    "patient": "optuna.pruners.PatientPruner",
    "wilcoxon": "optuna.pruners.WilcoxonPruner",
    "nop": "optuna.pruners.NopPruner",
}
SQLITE_TIMEOUT_S = 60
OPEN_ATTEMPTS = 5


def normalize_spec(
    spec: Any, names: Mapping[str, str], field: str, default: str | None
) -> tuple[str | None, dict[str, Any]]:
    """``spec`` -> (class path or None, keyword arguments), with errors naming ``field``."""
    if spec is None or (isinstance(spec, str) and spec.lower() in ("", "none", "null")):
        spec = default
    if spec is None:
        return None, {}
    if isinstance(spec, str):
        return lookup(spec, names, field), {}
    if not isinstance(spec, Mapping):
        raise ConfigError(field, f"expected a name or a mapping, got {spec!r}")
    kwargs = {str(k): v for k, v in spec.items()}
    name, target = kwargs.pop("name", None), kwargs.pop("_target_", None)
    # `name` wins: a `_target_` beside it comes from the hydra/sweeper/sampler group default.
    if name is not None:
        return lookup(name, names, field), kwargs
    if target is None:
        if default is None:
            raise ConfigError(field, "give 'name' (e.g. median) or '_target_'")
        return lookup(default, names, field), kwargs
    return str(target), kwargs


def lookup(name: str, names: Mapping[str, str], field: str) -> str:
    """The class path registered as ``name`` (case-insensitive)."""
    key = str(name).lower()
    if key not in names:
        kind = field.rsplit(".", 1)[-1]
        raise ConfigError(field, f"unknown {kind} {name!r}; choose one of {', '.join(names)}")
    return names[key]


def build_object(target: str, kwargs: dict[str, Any], field: str, **objects: Any) -> Any:
    """Instantiate ``target``; ``objects`` are ready-made arguments passed as they are."""
    try:
        return instantiate({"_target_": target, **kwargs}, _convert_="all", **objects)
    except Exception as error:  # hydra wraps TypeError/ImportError in InstantiationException
        cause = error.__cause__ or error
        raise ConfigError(field, f"cannot build {target}: {one_line(cause)}") from None


def make_pruner(spec: Any) -> optuna.pruners.BasePruner:
    """The pruner ``spec`` names (``None`` -> NopPruner: trials report but are never pruned)."""
    target, kwargs = normalize_spec(spec, PRUNERS, PRUNER_FIELD, default=None)
    if target is None:
        return optuna.pruners.NopPruner()
    if target == "optuna.pruners.PatientPruner":
        wrapped = make_pruner(kwargs.pop("wrapped_pruner", None))
        pruner = build_object(target, kwargs, PRUNER_FIELD, wrapped_pruner=wrapped)
    else:
        pruner = build_object(target, kwargs, PRUNER_FIELD)
    if not isinstance(pruner, optuna.pruners.BasePruner):
        raise ConfigError(PRUNER_FIELD, f"{target} is not an Optuna pruner")
    return pruner


def pruner_of(study: optuna.Study) -> optuna.pruners.BasePruner:
    """The pruner the sweeper stored on ``study`` (NopPruner when none)."""
    return make_pruner(study.user_attrs.get(PRUNER_ATTR))


def open_storage(url: str, field: str = "hydra.sweeper.storage", heartbeat_interval: int | None = None,
                 grace_period: int | None = None) -> RDBStorage:
    """An RDB storage for ``url``; sqlite waits for locks, a new database's creation race is retried.

    A database server is checked to answer first (one line naming ``field`` within seconds);
    a bare ``postgresql://`` gets psycopg as its driver.
    """
    url = with_driver(url)
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite:"):
        engine_kwargs["connect_args"] = {"timeout": SQLITE_TIMEOUT_S}
    else:  # a server: few connections per process, and dropped ones are noticed before use
        engine_kwargs.update(pool_size=2, max_overflow=4, pool_pre_ping=True,
                             connect_args=connect_args(url))
        if is_database(url):
            check_database(url, field)
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat_interval or None,
                grace_period=grace_period if heartbeat_interval else None,
            )
        except (sqlalchemy.exc.ArgumentError, ImportError, ModuleNotFoundError) as error:
            raise ConfigError(field, f"cannot open {url!r}: {one_line(error)}") from None
        except sqlalchemy.exc.SQLAlchemyError as error:
            # two processes creating the tables of a new database at once: the loser retries
            if attempt + 1 < OPEN_ATTEMPTS:
                time.sleep(0.5 * (attempt + 1))
                continue
            raise ConfigError(field, f"cannot open {url!r}: {one_line(error)}") from None
    raise AssertionError("unreachable")
