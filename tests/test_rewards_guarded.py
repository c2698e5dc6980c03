"""The reward guard: one call on distinct texts, failures become NaN (worst fitness), never a crash."""

from __future__ import annotations

import logging
import math

import pytest
import torch

from evosweep.errors import ConfigError, RewardError
from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.rewards.guarded import GuardedReward, guard, require_some_member_scored
from evosweep.settings.evaluation import EvalSettings
from evosweep.tasks.pairs import Pair


class Recording:
    """Length of the completion; records each call; fails on the texts in ``bad``."""

    value_range = (0.0, 100.0)

    def __init__(self, bad=(), result=None):
        self.calls: list[list[str]] = []
        self.bad = set(bad)
        self.result = result

    def __call__(self, completions, references, prompts=None):
        self.calls.append(list(completions))
        if self.bad & set(completions):
            raise ValueError("cannot score this")
        if self.result is not None:
            return self.result(completions)
        return [float(len(c)) for c in completions]


def test_repeated_pairs_are_scored_once_in_one_call():
    inner = Recording()
    scores = GuardedReward(inner)(["ab", "c", "ab", "ab", "c"], ["r"] * 5, ["p"] * 5)
    assert scores == [2.0, 1.0, 2.0, 2.0, 1.0]
    assert inner.calls == [["ab", "c"]]


def test_same_completion_with_another_reference_is_scored_separately():
    inner = Recording()
    GuardedReward(inner)(["ab", "ab"], ["r1", "r2"])
    assert inner.calls == [["ab", "ab"]]


def test_an_exception_marks_only_the_culprit_and_warns_with_member_and_text(caplog):
    inner = Recording(bad={"boom"})
    with caplog.at_level(logging.WARNING, logger="evosweep.rewards"):
        scores = GuardedReward(inner)(["fine", "boom", "ok", "boom"], ["r"] * 4, members=[0, 1, 2, 1])
    assert scores[0] == 4.0 and scores[2] == 2.0
    assert math.isnan(scores[1]) and math.isnan(scores[3])
    assert inner.calls[0] == ["fine", "boom", "ok"]  # the batch first, then one by one
    assert sorted(map(tuple, inner.calls[1:])) == [("boom",), ("fine",), ("ok",)]
    warning = [r.getMessage() for r in caplog.records if "member(s) 1" in r.getMessage()]
    assert warning and "'boom'" in warning[0] and "ValueError" in warning[0]


@pytest.mark.parametrize("bad_value", [float("nan"), float("inf"), None, "high"])
def test_non_finite_or_non_numeric_scores_become_nan(bad_value, caplog):
    inner = Recording(result=lambda texts: [bad_value if t == "x" else 1.0 for t in texts])
    with caplog.at_level(logging.WARNING, logger="evosweep.rewards"):
        scores = GuardedReward(inner)(["x", "y"], ["r", "r"], members=[3, 4])
    assert math.isnan(scores[0]) and scores[1] == 1.0
    assert "member(s) 3" in caplog.text


def test_a_wrong_number_of_scores_is_a_failure_not_a_misalignment():
    inner = Recording(result=lambda texts: [1.0])
    scores = GuardedReward(inner)(["a", "b"], ["r", "r"])
    assert scores == [1.0, 1.0]  # the per-text retry returns one score per call


def test_evosweep_errors_are_not_swallowed():
    def misconfigured(completions, references, prompts=None):
        raise ConfigError("reward", "needs task=countdown")

    with pytest.raises(ConfigError, match="countdown"):
        GuardedReward(misconfigured)(["a"], ["r"])


def test_guard_wraps_once():
    wrapped = guard(Recording())
    assert guard(wrapped) is wrapped
    assert wrapped.value_range == (0.0, 100.0)


def test_every_member_failed_stops_with_a_clear_error():
    guarded = GuardedReward(Recording())
    guarded.last_error = "ValueError: cannot score this"
    nan = float("nan")
    require_some_member_scored(torch.tensor([[1.0, nan], [2.0, 3.0]]), guarded)
    require_some_member_scored(torch.tensor([[1.0, nan]]), guarded)  # one member, partly scored
    for scores in ([[nan, 1.0], [2.0, nan]], [[nan, nan]]):
        with pytest.raises(RewardError, match="every member.*cannot score this"):
            require_some_member_scored(torch.tensor(scores), guarded)


def test_evaluator_gives_the_failing_member_nan_fitness(tiny_gpt2, caplog):
    layout = LoraLayout.from_model(tiny_gpt2.model, tiny_gpt2.settings.lora)
    generator = torch.Generator().manual_seed(0)
    population = layout.initial_member(generator) + torch.randn(3, layout.dim, generator=generator) * 0.5
    pairs = [Pair("Translate 'bonjour':", "hello"), Pair("Say hi:", "hi")]
    settings = EvalSettings(max_new_tokens=4)
    lora = BatchedLora(tiny_gpt2.model, layout)
    texts = PopulationEvaluator(tiny_gpt2, lora, Recording(), settings).generate(population, pairs)
    only_member_1 = set(texts[1]) - set(texts[0]) - set(texts[2])
    assert only_member_1, texts

    evaluator = PopulationEvaluator(tiny_gpt2, lora, Recording(bad=only_member_1), settings)
    with caplog.at_level(logging.WARNING, logger="evosweep.rewards"):
        evaluation = evaluator.evaluate(population, pairs)
    fitness = evaluation.fitness
    assert torch.isnan(fitness[1]) and torch.isfinite(fitness[[0, 2]]).all()
    assert "member(s) 1 " in caplog.text

    everything = {text for member in texts for text in member}
    with pytest.raises(RewardError, match="Recording failed for every member"):
        PopulationEvaluator(tiny_gpt2, lora, Recording(bad=everything), settings).evaluate(population, pairs)
