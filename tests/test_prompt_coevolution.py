"""prompts=coevolve: text operators, the prompt GA, and a whole co-evolving run on the tiny model."""

from __future__ import annotations

import random

import pytest
import torch
from conftest import TINY_RUN

from evosweep.algorithms.prompt_operators import TextOperators, vocabulary_from
from evosweep.algorithms.prompt_population import PromptPopulation
from evosweep.errors import ConfigError
from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.run import run
from evosweep.settings.build import build_settings
from evosweep.settings.prompts import PromptSettings
from evosweep.state.checkpoint import load_checkpoint

COEVOLVE = [o for o in TINY_RUN if o != "task=bonjour"] + [
    "task=fr_en", "task.max_train=3", "task.max_eval=3", "prompts=coevolve", "prompts.population_size=4",
    "model.system_prompt=Reply with one word.", "reward=chrf"]


def test_one_edit_changes_at_most_one_word_with_vocabulary_words():
    operators, rng = TextOperators(edits=1), random.Random(0)
    vocabulary = ["alpha", "beta"]
    for _ in range(50):
        child = operators.mutate("reply with one word", rng, vocabulary)
        words = child.split()
        assert abs(len(words) - 4) <= 1
        assert set(words) <= {"reply", "with", "one", "word", "alpha", "beta"}


def test_crossover_joins_sentences_when_both_have_them_else_phrases():
    operators, rng = TextOperators(), random.Random(1)
    children = {operators.cross("Be brief. Answer now.", "Think. Reply in English.", rng) for _ in range(30)}
    for child in children:
        assert child.startswith("Be brief.")  # always at least the first sentence of the first parent
        assert child.endswith(("Answer now.", "Reply in English."))
    phrase = operators.cross("one two three", "four five six", random.Random(2))
    assert phrase.split()[0] == "one" and phrase.split()[-1] == "six"


def test_vocabulary_comes_from_the_task_and_the_built_in_words():
    words = vocabulary_from(["Translate this: chat", "Translate this: chien"])
    assert words[:4] == ["Translate", "this", "chat", "chien"] and "concise" in words


def test_the_prompt_ga_keeps_elites_and_tracks_the_best():
    population = PromptPopulation(PromptSettings(evolve=True, population_size=4, elite=2),
                                  TextOperators(), "answer briefly", ["x", "y"], seed=0)
    assert population.variants[0] == "answer briefly" and len(population.variants) == 4
    scored = list(population.variants)
    metrics = population.tell(torch.tensor([0.1, 0.9, float("nan"), 0.5]))
    assert population.best == scored[1] and metrics["prompts/best"] == pytest.approx(0.9)
    assert population.variants[:2] == [scored[1], scored[3]]  # elites, best first; NaN ranks last
    state = population.state_dict()
    again = PromptPopulation(PromptSettings(evolve=True, population_size=4, elite=2),
                             TextOperators(), "other", ["x", "y"], seed=5)
    again.load_state_dict(state)
    assert again.tell(torch.arange(4.0)) == population.tell(torch.arange(4.0))
    assert again.variants == population.variants


def test_a_coevolving_run_scores_both_populations_in_one_pass_and_saves_the_pair(compose_config, tmp_path,
                                                                                 monkeypatch):
    calls = []
    original = PopulationEvaluator.evaluate

    def spy(self, population, pairs, instructions=None):
        calls.append((population.shape[0], None if instructions is None else list(instructions)))
        return original(self, population, pairs, instructions)

    monkeypatch.setattr(PopulationEvaluator, "evaluate", spy)
    run(compose_config(COEVOLVE), tmp_path)
    checkpoint = load_checkpoint(tmp_path)
    history = checkpoint["history"]
    assert [row["perf/reward_evals"] for row in history] == [(6 + 4) * 3] * 4  # (P + K) x N
    assert all(row["perf/evals_per_s"] > 0 for row in history)
    assert all({"prompts/best", "prompts/mean", "prompts/best_words"} <= set(row) for row in history)
    train_calls = [c for c in calls if c[0] == 6 + 4]
    assert len(train_calls) == 4  # one joint pass per generation
    assert train_calls[0][1][:6] == ["Reply with one word."] * 6  # adapters read the best prompt
    best = checkpoint["prompts"]["best"]
    assert (tmp_path / "adapters" / "best" / "prompt.txt").read_text() == best + "\n"
    summary = (tmp_path / "summary.md").read_text()
    assert "best prompt" in summary and repr(best) in summary


def test_prompts_fixed_never_passes_an_instruction(compose_config, tmp_path, monkeypatch):
    seen = []
    original = PopulationEvaluator.evaluate

    def spy(self, population, pairs, instructions=None):
        seen.append(instructions)
        return original(self, population, pairs, instructions)

    monkeypatch.setattr(PopulationEvaluator, "evaluate", spy)
    run(compose_config(TINY_RUN + ["prompts=fixed"]), tmp_path)
    assert seen and all(instructions is None for instructions in seen)
    assert load_checkpoint(tmp_path)["prompts"] is None


@pytest.mark.parametrize("overrides,field", [
    (["prompts=coevolve", "prompts.elite=6"], "prompts.elite"),
    (["prompts=coevolve", "operators.text.rewrite_rate=2"], "operators.text.rewrite_rate"),
])
def test_bad_prompt_settings_are_named(compose_config, overrides, field):
    with pytest.raises(ConfigError) as error:
        build_settings(compose_config(overrides))
    assert error.value.field == field
