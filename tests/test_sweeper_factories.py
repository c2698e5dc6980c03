"""Samplers and pruners by name, by ``{name: ..., args}`` and by ``_target_``; their errors."""

from __future__ import annotations

import json

import optuna
import pytest

from hydra_plugins.evosweep_optuna_sweeper.factories import make_pruner, make_sampler
from hydra_plugins.evosweep_optuna_sweeper.search_space import parse_search_space

SPACE = parse_search_space({"x": "range(-5.5,5.5,step=0.5)", "y": "choice(-5,0,5)"}, [])


@pytest.mark.parametrize(
    ("spec", "cls"),
    [
        (None, optuna.samplers.TPESampler),
        ("tpe", optuna.samplers.TPESampler),
        ("RANDOM", optuna.samplers.RandomSampler),
        ("qmc", optuna.samplers.QMCSampler),
        ("gp", optuna.samplers.GPSampler),
        ("nsgaii", optuna.samplers.NSGAIISampler),
        ({"name": "random", "seed": 3}, optuna.samplers.RandomSampler),
        # `name` wins over the `_target_` merged in from the hydra/sweeper/sampler default
        ({"_target_": "optuna.samplers.TPESampler", "seed": None, "name": "random"},
         optuna.samplers.RandomSampler),
        ({"seed": 1}, optuna.samplers.TPESampler),
        # the official plugin's documented sampler block
        ({"_target_": "optuna.samplers.TPESampler", "seed": 123, "n_startup_trials": 10,
          "n_ei_candidates": 24, "multivariate": False}, optuna.samplers.TPESampler),
    ],
)
def test_sampler_specs(spec: object, cls: type) -> None:
    assert isinstance(make_sampler(spec, SPACE), cls)


def test_grid_sampler_gets_the_grid_from_params() -> None:
    sampler = make_sampler("grid", SPACE)
    assert isinstance(sampler, optuna.samplers.GridSampler)
    assert len(sampler._all_grids) == 22 * 3  # x: -5.5 .. 5.0 (stop excluded), y: 3


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("foo", "unknown sampler 'foo'; choose one of tpe, random"),
        ({"name": "tpe", "bogus": 1}, "unexpected keyword argument 'bogus'"),
        ({"_target_": "no.such.Sampler"}, "cannot build no.such.Sampler"),
        ({"_target_": "optuna.pruners.MedianPruner"}, "not an Optuna sampler"),
        (3, "expected a name or a mapping"),
    ],
)
def test_sampler_errors(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=r"^hydra\.sweeper\.sampler: .*" + message):
        make_sampler(spec, SPACE)


def test_grid_needs_discrete_params() -> None:
    with pytest.raises(ValueError, match=r"hydra\.sweeper\.params\.x: the grid sampler"):
        make_sampler("grid", parse_search_space({"x": "interval(0, 1)"}, []))


def test_single_objective_sampler_refuses_two_directions() -> None:
    with pytest.raises(ValueError, match=r"hydra\.sweeper\.sampler: GPSampler supports one"):
        make_sampler("gp", SPACE, n_objectives=2)


@pytest.mark.parametrize(
    ("spec", "cls"),
    [
        (None, optuna.pruners.NopPruner),
        ("median", optuna.pruners.MedianPruner),
        ({"name": "median", "n_startup_trials": 2}, optuna.pruners.MedianPruner),
        ({"name": "percentile", "percentile": 25.0}, optuna.pruners.PercentilePruner),
        ("hyperband", optuna.pruners.HyperbandPruner),
        ("successive_halving", optuna.pruners.SuccessiveHalvingPruner),
        ({"name": "threshold", "upper": 1.0}, optuna.pruners.ThresholdPruner),
        ({"name": "patient", "patience": 2, "wrapped_pruner": "median"}, optuna.pruners.PatientPruner),
        ({"_target_": "optuna.pruners.MedianPruner", "n_warmup_steps": 1}, optuna.pruners.MedianPruner),
    ],
)
def test_pruner_specs(spec: object, cls: type) -> None:
    json.dumps(spec)  # pruner specs travel to jobs as JSON
    assert isinstance(make_pruner(spec), cls)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("foo", "unknown pruner 'foo'; choose one of median"),
        ("percentile", "missing 1 required positional argument: 'percentile'"),
        ({"name": "threshold"}, "Either lower or upper"),
        ({"n_startup_trials": 2}, "give 'name'"),
    ],
)
def test_pruner_errors(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=r"^hydra\.sweeper\.pruner: .*" + message):
        make_pruner(spec)
