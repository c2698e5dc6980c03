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
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from evosweep.sweep.optuna_specs import build_object
from evosweep.sweep.optuna_specs import make_pruner as core_make_pruner
from evosweep.sweep.optuna_specs import normalize_spec as core_normalize_spec

from .errors import SweeperConfigError, as_sweeper_errors
from .search_space import SearchSpace

SAMPLER_FIELD = "hydra.sweeper.sampler"

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
    """The pruner ``spec`` names (``None`` -> NopPruner); see evosweep.sweep.optuna_specs."""
    with as_sweeper_errors():
        return core_make_pruner(spec)


def normalize_spec(
    spec: Any, names: Mapping[str, str], field: str, default: str | None
) -> tuple[str | None, dict[str, Any]]:
    """``spec`` -> (class path or None, keyword arguments), with errors naming ``field``."""
    with as_sweeper_errors():
        return core_normalize_spec(spec, names, field, default)


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


def _check_importable(target: str, field: str) -> None:
    package = _NEEDS.get(target)
    if package and importlib.util.find_spec(package) is None:
        raise SweeperConfigError(field, f"{target} needs the '{package}' package: pip install {package}")


def _build(target: str, kwargs: dict[str, Any], field: str, **objects: Any) -> Any:
    with as_sweeper_errors():
        return build_object(target, kwargs, field, **objects)
