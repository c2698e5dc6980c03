"""``hydra.sweeper.params`` (Hydra's override grammar) -> Optuna distributions.

Grammar, as in the official plugin: ``interval(a, b)`` (float), ``int(interval(a, b))``,
``tag(log, interval(a, b))``, ``range(a, b, step=s)`` (Python semantics: ``b`` excluded),
``shuffle(range(...))`` and ``choice(...)`` / ``a,b,c`` (categorical); any other value is
a fixed override passed to every trial unchanged.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import (
    ChoiceSweep,
    IntervalSweep,
    Override,
    Quote,
    QuotedString,
    RangeSweep,
)
from hydra.errors import HydraException
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from evosweep.errors import one_line

from .errors import SweeperConfigError

PARAMS_FIELD = "hydra.sweeper.params"
_CATEGORY_TYPES = (str, int, float, bool, type(None))


@dataclass
class SearchSpace:
    """What Optuna samples (``distributions``) and what every trial gets as is (``fixed``)."""

    distributions: dict[str, BaseDistribution] = field(default_factory=dict)
    fixed: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, str]:
        """One readable line per searched parameter (for logs and MLflow)."""
        return {name: _describe(dist) for name, dist in self.distributions.items()}


def parse_search_space(params: Mapping[str, Any] | None, arguments: Sequence[str]) -> SearchSpace:
    """Merge config ``params`` with command-line ``arguments`` (which win) into a SearchSpace."""
    lines: dict[str, tuple[str, str]] = {}  # key -> (source field, override line)
    for key, value in (params or {}).items():
        lines[str(key)] = (f"{PARAMS_FIELD}.{key}", f"{key}={_as_override_value(key, value)}")
    parser = OverridesParser.create()
    for argument in arguments:
        override = _parse_one(parser, argument, "command line")
        key = override.get_key_element().lstrip("+~")
        lines.pop(key, None)
        lines[override.get_key_element()] = ("command line", argument)

    space = SearchSpace()
    for source, line in lines.values():
        override = _parse_one(parser, line, source)
        if not override.is_sweep_override():
            space.fixed.append(line)
            continue
        name = override.get_key_element()
        where = source if source == "command line" else f"{PARAMS_FIELD}.{name}"
        space.distributions[name] = to_distribution(override, where)
    return space


def to_distribution(override: Override, where: str) -> BaseDistribution:
    """One sweep override -> its Optuna distribution; errors name ``where``."""
    sweep = override.value()
    tags = set(getattr(sweep, "tags", set()))
    unknown = tags - {"log"}
    if unknown:
        raise SweeperConfigError(where, f"unknown tag(s) {sorted(unknown)}; only 'log' is known")
    log = "log" in tags
    if isinstance(sweep, IntervalSweep):
        return _interval(sweep, log, where)
    if isinstance(sweep, RangeSweep):
        return _range(sweep, log, where)
    if isinstance(sweep, ChoiceSweep):
        if log:
            raise SweeperConfigError(where, "tag(log, ...) applies to interval or range, not choice")
        return _categorical(list(sweep.list), where)
    raise SweeperConfigError(where, f"unsupported sweep {override.input_line!r} (glob?)")


def trial_overrides(space: SearchSpace, values: Mapping[str, Any]) -> list[str]:
    """The Hydra overrides of one trial: the fixed ones, then one ``name=value`` per param."""
    return [*space.fixed, *(f"{name}={format_value(v)}" for name, v in values.items())]


def format_value(value: Any) -> str:
    """A sampled value as Hydra override text (strings quoted so they stay strings)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return QuotedString(text=str(value), quote=Quote.single).with_quotes()


def _parse_one(parser: OverridesParser, line: str, where: str) -> Override:
    try:
        return parser.parse_overrides([line])[0]
    except HydraException as error:
        raise SweeperConfigError(where, f"cannot parse {line!r}: {one_line(error)}") from None


def _as_override_value(key: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, int, float)):
        return format_value(value)
    raise SweeperConfigError(
        f"{PARAMS_FIELD}.{key}", f"expected a string such as 'choice(1, 2)', got {value!r}"
    )


def _interval(sweep: IntervalSweep, log: bool, where: str) -> BaseDistribution:
    low, high = sweep.start, sweep.end
    if low is None or high is None or not low < high:
        raise SweeperConfigError(where, f"bad interval({low}, {high}): needs start < end")
    if log and low <= 0:
        raise SweeperConfigError(where, f"tag(log, interval({low}, {high})) needs start > 0")
    if isinstance(low, int) and isinstance(high, int):
        return IntDistribution(low, high, log=log)
    return FloatDistribution(float(low), float(high), log=log)


def _range(sweep: RangeSweep, log: bool, where: str) -> BaseDistribution:
    try:
        values = list(sweep.range())
    except HydraException as error:
        raise SweeperConfigError(where, str(error)) from None
    if not values:
        raise SweeperConfigError(
            where, f"range({sweep.start}, {sweep.stop}, step={sweep.step}) is empty"
        )
    if sweep.shuffle:
        return _categorical(values, where)
    low, high, step = min(values), max(values), abs(sweep.step)
    if log and step != 1:
        raise SweeperConfigError(where, "tag(log, range(...)) needs step=1 (Optuna's rule)")
    if log and low <= 0:
        raise SweeperConfigError(where, "tag(log, range(...)) needs start > 0")
    if all(isinstance(v, int) for v in (sweep.start, sweep.stop, sweep.step)):
        return IntDistribution(int(low), int(high), log=log, step=int(step))
    if log:
        return FloatDistribution(float(low), float(high), log=True)
    # FloatDistribution wants (high - low) to be a multiple of step: it is, by construction.
    return FloatDistribution(float(low), float(high), step=float(step))


def _categorical(choices: list[Any], where: str) -> CategoricalDistribution:
    if not choices:
        raise SweeperConfigError(where, "choice() needs at least one option")
    for choice in choices:
        if not isinstance(choice, _CATEGORY_TYPES) or (
            isinstance(choice, float) and not math.isfinite(choice)
        ):
            raise SweeperConfigError(
                where, f"choice option {choice!r} must be a string, number, bool or null"
            )
    if len(set(map(repr, choices))) != len(choices):
        raise SweeperConfigError(where, f"choice options repeat: {choices}")
    return CategoricalDistribution(choices)


def _describe(dist: BaseDistribution) -> str:
    if isinstance(dist, CategoricalDistribution):
        return f"choice{tuple(dist.choices)}"
    assert isinstance(dist, (IntDistribution, FloatDistribution))
    kind = "int" if isinstance(dist, IntDistribution) else "float"
    extra = ", log" if dist.log else (f", step={dist.step}" if dist.step not in (None, 1) else "")
    return f"{kind}[{dist.low}, {dist.high}{extra}]"
