"""Build Optuna samplers and pruners from ``hydra.sweeper.sampler`` / ``hydra.sweeper.pruner``.

A spec is a name (``tpe``), a mapping with ``name`` and the class's arguments
(``{name: median, n_startup_trials: 2}``) or a mapping with ``_target_`` and arguments
(the official plugin's form). Pruner specs are plain JSON so that a job in another
process can rebuild the same pruner from the study's user attributes.
"""

import importlib.util
from collections.abc import Mapping
from typing import Any

import optuna
from hydra.utils import instantiate
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from .errors import SweeperConfigError
from .search_space import SearchSpace

SAMPLER_FIELD = "hydra.sweeper.sampler"
PRUNER_FIELD = "hydra.sweeper.pruner"

SAMPLERS: dict[str, str] = {
    "tpe": "optuna.samplers.TPESampler",
    "random": "optuna.samplers.RandomSampler",
    "cmaes": "optuna.samplers.CmaEsSampler",
    "gp": "optuna.samplers.GPSampler",
    "qmc": "optuna.samplers.QMCSampler",
    "nsgaii": "optuna.samplers.NSGAIISampler",
    "nsgaiii": "optuna.samplers.NSGAIIISampler",
    "grid": "optuna.samplers.GridSampler",
    "bruteforce": "optuna.samplers.BruteForceSampler",
}
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
# Extra packages some samplers import only when they first sample.
_NEEDS = {"optuna.samplers.CmaEsSampler": "cmaes", "optuna.samplers.QMCSampler": "scipy",
          "optuna.samplers.GPSampler": "scipy"}
_SINGLE_OBJECTIVE = {"optuna.samplers.CmaEsSampler", "optuna.samplers.GPSampler"}


def make_sampler(spec: Any, space: SearchSpace, n_objectives: int = 1) -> optuna.samplers.BaseSampler:
    """The sampler ``spec`` names; ``grid`` gets its grid from ``space`` unless given one."""
    if isinstance(spec, optuna.samplers.BaseSampler):
        return spec
    target, kwargs = normalize_spec(spec, SAMPLERS, SAMPLER_FIELD, default="tpe")
    assert target is not None
    _check_importable(target, SAMPLER_FIELD)
    if target in _SINGLE_OBJECTIVE and n_objectives > 1:
        raise SweeperConfigError(
            SAMPLER_FIELD, f"{target.rsplit('.', 1)[-1]} supports one direction; use nsgaii or tpe"
        )
    if target == "optuna.samplers.GridSampler" and "search_space" not in kwargs:
        kwargs["search_space"] = grid_of(space)
    sampler = _build(target, kwargs, SAMPLER_FIELD)
    if not isinstance(sampler, optuna.samplers.BaseSampler):
        raise SweeperConfigError(SAMPLER_FIELD, f"{target} is not an Optuna sampler")
    return sampler


def make_pruner(spec: Any) -> optuna.pruners.BasePruner:
    """The pruner ``spec`` names (``None`` -> NopPruner: trials report but are never pruned)."""
    target, kwargs = normalize_spec(spec, PRUNERS, PRUNER_FIELD, default=None)
    if target is None:
        return optuna.pruners.NopPruner()
    if target == "optuna.pruners.PatientPruner":
        wrapped = make_pruner(kwargs.pop("wrapped_pruner", None))
        pruner = _build(target, kwargs, PRUNER_FIELD, wrapped_pruner=wrapped)
    else:
        pruner = _build(target, kwargs, PRUNER_FIELD)
    if not isinstance(pruner, optuna.pruners.BasePruner):
        raise SweeperConfigError(PRUNER_FIELD, f"{target} is not an Optuna pruner")
    return pruner


def normalize_spec(
    spec: Any, names: Mapping[str, str], field: str, default: str | None
) -> tuple[str | None, dict[str, Any]]:
    """``spec`` -> (class path or None, keyword arguments), with errors naming ``field``."""
    if spec is None or (isinstance(spec, str) and spec.lower() in ("", "none", "null")):
        spec = default
    if spec is None:
        return None, {}
    if isinstance(spec, str):
        return _lookup(spec, names, field), {}
    if not isinstance(spec, Mapping):
        raise SweeperConfigError(field, f"expected a name or a mapping, got {spec!r}")
    kwargs = {str(k): v for k, v in spec.items()}
    name, target = kwargs.pop("name", None), kwargs.pop("_target_", None)
    # `name` wins: a `_target_` beside it comes from the hydra/sweeper/sampler group default.
    if name is not None:
        return _lookup(name, names, field), kwargs
    if target is None:
        if default is None:
            raise SweeperConfigError(field, "give 'name' (e.g. median) or '_target_'")
        return _lookup(default, names, field), kwargs
    return str(target), kwargs


def grid_of(space: SearchSpace) -> dict[str, list[Any]]:
    """Every value of every parameter, for GridSampler; intervals cannot be gridded."""
    grid: dict[str, list[Any]] = {}
    for name, dist in space.distributions.items():
        if isinstance(dist, CategoricalDistribution):
            grid[name] = list(dist.choices)
        elif isinstance(dist, IntDistribution) and not dist.log:
            grid[name] = list(range(dist.low, dist.high + 1, dist.step))
        elif isinstance(dist, FloatDistribution) and dist.step is not None:
            count = round((dist.high - dist.low) / dist.step) + 1
            grid[name] = [dist.low + i * dist.step for i in range(count)]
        else:
            raise SweeperConfigError(
                f"hydra.sweeper.params.{name}",
                "the grid sampler needs choice(...) or range(...), not an interval",
            )
    return grid


def _lookup(name: str, names: Mapping[str, str], field: str) -> str:
    key = str(name).lower()
    if key not in names:
        raise SweeperConfigError(
            field, f"unknown {field.rsplit('.', 1)[-1]} {name!r}; choose one of {', '.join(names)}"
        )
    return names[key]


def _check_importable(target: str, field: str) -> None:
    package = _NEEDS.get(target)
    if package and importlib.util.find_spec(package) is None:
        raise SweeperConfigError(field, f"{target} needs the '{package}' package: pip install {package}")


def _build(target: str, kwargs: dict[str, Any], field: str, **objects: Any) -> Any:
    """Instantiate ``target``; ``objects`` are ready-made arguments passed as they are."""
    try:
        return instantiate({"_target_": target, **kwargs}, _convert_="all", **objects)
    except Exception as error:  # hydra wraps TypeError/ImportError in InstantiationException
        cause = error.__cause__ or error
        message = " ".join(str(cause).split())[:300] or type(cause).__name__
        raise SweeperConfigError(field, f"cannot build {target}: {message}") from None
