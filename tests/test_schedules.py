"""Schedules of the mutation scale / ES sigma, and their logging by the GA."""

from __future__ import annotations

import math

import pytest

from evosweep.algorithms.schedules import (
    ConstantSchedule,
    CosineDecay,
    ExponentialDecay,
    LinearDecay,
    OneFifthRule,
)
from evosweep.errors import ConfigError
from evosweep.settings.build import build_settings


def factors(schedule, total: int = 5) -> list[float]:
    return [schedule.factor(g, total) for g in range(total)]


def test_decays_run_from_one_to_final():
    assert factors(ConstantSchedule()) == [1.0] * 5
    assert factors(LinearDecay(final=0.2)) == pytest.approx([1.0, 0.8, 0.6, 0.4, 0.2])
    cosine = factors(CosineDecay(final=0.2))
    assert cosine[0] == pytest.approx(1.0) and cosine[-1] == pytest.approx(0.2)
    assert cosine[2] == pytest.approx(0.6)  # midway: half of the drop
    assert cosine[1] == pytest.approx(0.2 + 0.8 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert factors(ExponentialDecay(gamma=0.5)) == [1.0, 0.5, 0.25, 0.125, 0.0625]


def test_hold_keeps_full_scale_then_decays_over_the_rest():
    # 5 generations, hold 0.5: generations 0-2 (progress 0, 0.25, 0.5) at 1, then to final
    assert factors(LinearDecay(final=0.2, hold=0.5)) == pytest.approx([1.0, 1.0, 1.0, 0.6, 0.2])
    cosine = factors(CosineDecay(final=0.2, hold=0.5))
    assert cosine[:3] == pytest.approx([1.0, 1.0, 1.0])
    assert cosine[3] == pytest.approx(0.6) and cosine[4] == pytest.approx(0.2)
    assert factors(LinearDecay(final=0.2, hold=0.0)) == factors(LinearDecay(final=0.2))


@pytest.mark.parametrize("hold", [-0.1, 1.0])
def test_hold_outside_unit_interval_names_the_field(hold):
    with pytest.raises(ConfigError, match="schedule.hold"):
        LinearDecay(hold=hold)
    with pytest.raises(ConfigError, match="schedule.hold"):
        CosineDecay(hold=hold)


def test_one_fifth_rule_adapts_and_checkpoints():
    rule = OneFifthRule(target=0.2, step=2.0, min_factor=0.25, max_factor=4.0)
    trace = []
    for success in (0.5, 0.5, 0.5, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0):
        rule.observe(success)
        trace.append(rule.factor(0, 10))
    assert trace == [2.0, 4.0, 4.0, 4.0, 2.0, 1.0, 0.5, 0.25, 0.25]
    copy = OneFifthRule(target=0.2, step=2.0)
    copy.load_state_dict(rule.state_dict())
    assert copy.factor(3, 10) == 0.25


@pytest.mark.parametrize("overrides,field", [
    (["schedule=linear", "schedule.final=2"], "schedule.final"),
    (["schedule=exponential", "schedule.gamma=0"], "schedule.gamma"),
    (["schedule=one_fifth", "schedule.step=1"], "schedule.step"),
    (["schedule=one_fifth", "schedule.max_factor=0.001"], "schedule.max_factor"),
])
def test_invalid_schedules_name_the_field(compose_config, overrides, field):
    with pytest.raises(ConfigError) as error:
        build_settings(compose_config(overrides))
    assert error.value.field == field


def test_ga_logs_the_scale_that_bred_each_generation(compose_config, tmp_path):
    from conftest import TINY_RUN

    from evosweep.run import run
    from evosweep.state.checkpoint import load_checkpoint

    run(compose_config(TINY_RUN + ["algorithm.generations=3", "algorithm.mutation_scale=0.1",
                                   "schedule=linear", "schedule.final=0.5"]), tmp_path)
    scales = [row["schedule/mutation_scale"] for row in load_checkpoint(tmp_path)["history"]]
    assert scales == pytest.approx([0.1, 0.075, 0.05])


def test_one_fifth_rule_drives_the_ga_scale(compose_config, tmp_path):
    from conftest import TINY_RUN

    from evosweep.run import run
    from evosweep.state.checkpoint import load_checkpoint

    run(compose_config(TINY_RUN + ["algorithm.generations=4", "schedule=one_fifth", "schedule.step=2",
                                   "operators/selection=tournament", "operators/crossover=per_module"]),
        tmp_path)
    history = load_checkpoint(tmp_path)["history"]
    for before, after in zip(history, history[1:], strict=False):
        expected = 2.0 if before["ga/success_rate"] > 0.2 else 0.5
        if before["generation"] == 0:
            expected = 1.0  # generation 0 holds no children: nothing to judge
        assert after["schedule/mutation_scale"] == pytest.approx(before["schedule/mutation_scale"] * expected)
