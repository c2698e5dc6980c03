"""``hydra.sweeper.params`` grammar -> Optuna distributions, and its errors."""

from __future__ import annotations

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hydra_plugins.evosweep_optuna_sweeper.search_space import (
    format_value,
    parse_search_space,
    trial_overrides,
)

# The `params` blocks of the official plugin's documentation.
OFFICIAL_SPHERE = {"x": "range(-5.5,5.5,step=0.5)", "y": "choice(-5,0,5)"}
OFFICIAL_MULTI = {"x": "range(0, 5, step=0.5)", "y": "range(0, 3, step=0.5)"}
OFFICIAL_CUSTOM = {"x": "range(-5.5, 5.5, 0.5)", "y": "choice(-5, 0, 5)"}


def test_official_sphere_params() -> None:
    space = parse_search_space(OFFICIAL_SPHERE, [])
    assert space.distributions == {
        "x": FloatDistribution(-5.5, 5.0, step=0.5),
        "y": CategoricalDistribution([-5, 0, 5]),
    }
    assert space.fixed == []


@pytest.mark.parametrize("params", [OFFICIAL_MULTI, OFFICIAL_CUSTOM])
def test_other_official_blocks_parse(params: dict[str, str]) -> None:
    space = parse_search_space(params, [])
    assert set(space.distributions) == {"x", "y"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("interval(-5.0, 5.0)", FloatDistribution(-5.0, 5.0)),
        ("int(interval(-5.0, 5.0))", IntDistribution(-5, 5)),
        ("tag(log, interval(1, 10))", FloatDistribution(1.0, 10.0, log=True)),
        ("tag(log, int(interval(1, 64)))", IntDistribution(1, 64, log=True)),
        ("range(-5, 5)", IntDistribution(-5, 4)),
        ("range(1, 10, step=3)", IntDistribution(1, 7, step=3)),
        ("range(-5.0, 5.0)", FloatDistribution(-5.0, 4.0, step=1.0)),
        ("shuffle(range(-2, 2))", CategoricalDistribution([-2, -1, 0, 1])),
        ("choice(uniform, arithmetic, none)", CategoricalDistribution(["uniform", "arithmetic", "none"])),
        ("choice(4, 8, 16)", CategoricalDistribution([4, 8, 16])),
        ("1,2,3", CategoricalDistribution([1, 2, 3])),
    ],
)
def test_grammar(text: str, expected: object) -> None:
    assert parse_search_space({"p": text}, []).distributions["p"] == expected


def test_plain_values_and_command_line_win() -> None:
    space = parse_search_space(
        {"x": "interval(0, 1)", "k": 3, "flag": True},
        ["x=choice(1, 2)", "model=tiny-gpt2", "+extra=interval(0, 2)"],
    )
    assert space.distributions["x"] == CategoricalDistribution([1, 2])
    assert space.distributions["+extra"] == FloatDistribution(0.0, 2.0)
    assert space.fixed == ["k=3", "flag=true", "model=tiny-gpt2"]


def test_group_params_and_overrides() -> None:
    space = parse_search_space({"operators/crossover": "choice(uniform, none)"}, ["seed=1"])
    lines = trial_overrides(space, {"operators/crossover": "none", "a.b": 0.5, "n": 3})
    assert lines == ["seed=1", "operators/crossover='none'", "a.b=0.5", "n=3"]


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "null"), (True, "true"), (3, "3"), (1e-5, "1e-05"), ("a'b", "'a\\'b'"), ("1", "'1'")],
)
def test_format_value(value: object, text: str) -> None:
    assert format_value(value) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("interval(3, 1)", "needs start < end"),
        ("interval(1, 1)", "needs start < end"),
        ("tag(log, interval(0, 1))", "needs start > 0"),
        ("tag(foo, interval(0, 1))", "unknown tag"),
        ("tag(log, choice(1, 2))", "not choice"),
        ("range(5, 1)", "is empty"),
        ("tag(log, range(1, 10, step=2))", "step=1"),
        ("interval(0,", "cannot parse"),
        ("choice(1, 1)", "repeat"),
        ("glob(*)", "unsupported"),
    ],
)
def test_errors_name_the_field(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^hydra\.sweeper\.params\.algorithm\.elite: .*" + message):
        parse_search_space({"algorithm.elite": text}, [])


def test_command_line_error_says_so() -> None:
    with pytest.raises(ValueError, match=r"^command line: bad interval"):
        parse_search_space({}, ["x=interval(2, 1)"])


def test_non_string_param_rejected() -> None:
    with pytest.raises(ValueError, match=r"hydra\.sweeper\.params\.x: expected a string"):
        parse_search_space({"x": [1, 2]}, [])
