"""Validate every ``hydra.sweeper`` field into a SweepPlan before any trial runs."""

import importlib
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from hydra.errors import HydraException
from hydra.utils import get_method
from omegaconf import DictConfig, OmegaConf

from evosweep.errors import one_line
from evosweep.sweep.optuna_specs import PRUNERS

from .errors import SweeperConfigError
from .factories import make_pruner, make_sampler, normalize_spec
from .search_space import SearchSpace, parse_search_space
from .study import parse_directions, storage_url

CustomSpace = Callable[[DictConfig, optuna.trial.Trial], None]


@dataclass
class SweepPlan:
    """Everything a sweep needs, checked: a bad field fails here, naming itself."""

    space: SearchSpace
    directions: list[str]
    sampler: optuna.samplers.BaseSampler
    pruner: optuna.pruners.BasePruner
    pruner_spec: Any  # plain JSON: stored on the study, rebuilt by jobs (evosweep.sweep.pruning)
    storage_url: str
    study_name: str
    n_trials: int
    n_jobs: int
    max_failure_rate: float
    heartbeat_interval: int | None
    grace_period: int | None
    custom_search_space: CustomSpace | None


def build_plan(fields: Mapping[str, Any], arguments: Sequence[str], config: DictConfig,
               task_module: str | None = None) -> SweepPlan:
    """``fields``: the sweeper's arguments; ``config``: the composed config (job + hydra)."""
    space = parse_search_space(_plain(fields.get("params")), arguments)
    directions = parse_directions(_plain(fields.get("direction", "minimize")))
    pruner_spec = _json_spec(fields.get("pruner"), "hydra.sweeper.pruner")
    pruner = make_pruner(pruner_spec)
    has_pruner = normalize_spec(pruner_spec, PRUNERS, "hydra.sweeper.pruner", None)[0] is not None
    if has_pruner and len(directions) > 1:
        raise SweeperConfigError("hydra.sweeper.pruner", "Optuna prunes single-objective studies only")
    heartbeat = _int(fields.get("heartbeat_interval"), "hydra.sweeper.heartbeat_interval", 0, True)
    grace = _int(fields.get("grace_period"), "hydra.sweeper.grace_period", 1, True)
    if heartbeat and grace is not None and grace <= heartbeat:
        raise SweeperConfigError("hydra.sweeper.grace_period", "must exceed heartbeat_interval")
    base_dir = Path(str(OmegaConf.select(config, "hydra.runtime.cwd", default=".")))
    return SweepPlan(
        space=space,
        directions=directions,
        sampler=make_sampler(_plain(fields.get("sampler")), space, len(directions)),
        pruner=pruner,
        pruner_spec=pruner_spec,
        storage_url=storage_url(fields.get("storage"), base_dir),
        study_name=str(fields.get("study_name") or default_study_name(config)),
        n_trials=_int(fields.get("n_trials"), "hydra.sweeper.n_trials", 1) or 1,
        n_jobs=_int(fields.get("n_jobs"), "hydra.sweeper.n_jobs", 1) or 1,
        max_failure_rate=_rate(fields.get("max_failure_rate", 0.0)),
        heartbeat_interval=heartbeat or None,
        grace_period=grace,
        custom_search_space=load_custom_space(fields.get("custom_search_space"), task_module),
    )


def default_study_name(config: DictConfig) -> str:
    """The experiment's name: ``experiment=`` choice, else ``tracking.experiment``, else the job."""
    for key in ("hydra.runtime.choices.experiment", "tracking.experiment", "hydra.job.name"):
        value = OmegaConf.select(config, key, default=None, throw_on_missing=False)
        if value not in (None, "", "null"):
            return str(value).replace("/", "-")
    return "evosweep"


def load_custom_space(path: Any, task_module: str | None) -> CustomSpace | None:
    """``custom_search_space``: ``pkg.mod.fn``; a leading dot looks in the app's own module."""
    if not path:
        return None
    field = "hydra.sweeper.custom_search_space"
    text = str(path)
    try:
        if text.startswith("."):
            fn = _relative_function(text[1:], task_module)
        else:
            fn = get_method(text)
    except (ImportError, AttributeError, ValueError, HydraException) as error:
        raise SweeperConfigError(field, f"cannot load {text!r}: {one_line(error)}") from None
    if not callable(fn):
        raise SweeperConfigError(field, f"{text!r} is not a function (cfg, trial) -> None")
    return fn


def _relative_function(rest: str, task_module: str | None) -> Any:
    """``.fn`` or ``.<app file stem>.fn`` inside the task function's module."""
    module = sys.modules.get(task_module or "__main__") or importlib.import_module(task_module or "")
    parts = rest.split(".")
    stem = Path(getattr(module, "__file__", "") or "").stem
    if len(parts) > 1 and parts[0] in (stem, (task_module or "").rsplit(".", 1)[-1]):
        parts = parts[1:]
    target: Any = module
    for part in parts:
        target = getattr(target, part)
    return target


def _plain(value: Any) -> Any:
    if isinstance(value, (DictConfig,)) or OmegaConf.is_list(value):
        return OmegaConf.to_container(value, resolve=True)
    return value


def _json_spec(value: Any, field: str) -> Any:
    spec = _plain(value)
    try:
        json.dumps(spec)
    except TypeError:
        raise SweeperConfigError(field, f"must be plain values (names, numbers), got {spec!r}") from None
    return spec


def _int(value: Any, field: str, minimum: int, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SweeperConfigError(field, f"expected an integer >= {minimum}, got {value!r}")
    return value


def _rate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise SweeperConfigError(
            "hydra.sweeper.max_failure_rate", f"expected a number in [0, 1], got {value!r}"
        )
    return float(value)
