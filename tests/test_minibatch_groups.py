"""task.minibatch_groups: each contiguous group of members scored on its own draw of train pairs."""

from __future__ import annotations

import pytest
import torch
from conftest import TINY_RUN

from evosweep.algorithms.es import ESConfig, EvolutionStrategy
from evosweep.algorithms.schedules import ConstantSchedule
from evosweep.algorithms.shaping import shape_per_prompt, shape_per_prompt_in_groups
from evosweep.errors import ConfigError
from evosweep.evaluation.evaluator import Evaluation, PopulationEvaluator
from evosweep.evaluation.member_groups import evaluate_in_groups, group_slices
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.rewards.likelihood import LikelihoodReward
from evosweep.run import run, tell
from evosweep.settings.build import build_settings
from evosweep.settings.evaluation import EvalSettings
from evosweep.state.checkpoint import load_checkpoint
from evosweep.tasks.minibatch import TrainBatches
from evosweep.tasks.pairs import Pair

PAIRS = [Pair(f"Translate 'mot{i}' to English:", f"word{i}") for i in range(12)]
#: ES on fr_en-like pairs, 8 mirrored members, 2 pairs a draw
GROUPED = [o if o != "algorithm=ga" else "algorithm=es" for o in TINY_RUN] + [
    "algorithm.population_size=8", "algorithm.generations=2", "task.minibatch=2"]


def test_groups_are_equal_contiguous_slices():
    assert group_slices(8, 4) == [slice(0, 2), slice(2, 4), slice(4, 6), slice(6, 8)]
    assert group_slices(8, 1) == [slice(0, 8)]
    with pytest.raises(ValueError, match="cannot cut 8 members into 3"):
        group_slices(8, 3)


def test_one_group_draws_exactly_what_a_single_minibatch_did():
    single, grouped = TrainBatches(PAIRS, 4, seed=3), TrainBatches(PAIRS, 4, seed=3)
    for _ in range(5):  # across epoch boundaries too
        assert grouped.next_groups(1) == [single.next()]


def test_several_groups_draw_different_pairs_in_shuffled_epochs():
    draws = TrainBatches(PAIRS, 4, seed=0).next_groups(3)
    assert [len(draw) for draw in draws] == [4, 4, 4]
    seen = [pair for draw in draws for pair in draw]
    assert len(set(seen)) == 12  # three draws of one epoch: every pair once


def test_each_group_scores_as_it_would_alone(tiny_gpt2):
    layout = LoraLayout.from_model(tiny_gpt2.model, tiny_gpt2.settings.lora)
    generator = torch.Generator().manual_seed(0)
    population = layout.initial_member(generator) + 0.3 * torch.randn(6, layout.dim, generator=generator)
    evaluator = PopulationEvaluator(tiny_gpt2, BatchedLora(tiny_gpt2.model, layout), LikelihoodReward(),
                                    EvalSettings(batch_size=8))
    batches = [PAIRS[0:3], PAIRS[3:6], PAIRS[6:9]]
    scores = evaluate_in_groups(evaluator, population, batches).scores  # (6, 3)
    for part, pairs in zip(group_slices(6, 3), batches, strict=True):
        alone = evaluator.evaluate(population[part], pairs).scores
        torch.testing.assert_close(scores[part], alone, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(scores[0:2], evaluator.evaluate(population[0:2], batches[1]).scores)
    one = evaluate_in_groups(evaluator, population, [PAIRS[0:3]]).scores
    torch.testing.assert_close(one, evaluator.evaluate(population, PAIRS[0:3]).scores)


def test_a_grouped_run_scores_every_member_and_resumes_its_draws(compose_config, tmp_path):
    cfg = compose_config(GROUPED + ["task=fr_en", "task.max_train=12", "task.max_eval=2",
                                    "task.transfer_path=null", "task.minibatch_groups=4"])
    run(cfg, tmp_path / "run")
    checkpoint = load_checkpoint(tmp_path / "run")
    assert [row["perf/reward_evals"] for row in checkpoint["history"]] == [16, 16]  # 8 members x 2 pairs
    batches = TrainBatches([Pair("p", "r")] * 12, 2, seed=0)
    batches.load_state_dict(checkpoint["train_batches"])  # 2 generations x 4 groups x 2 pairs drawn
    assert len(batches.sampler.order) == 8  # 16 drawn: one epoch of 12, then 4 of the next


@pytest.mark.parametrize(("overrides", "message"), [
    (["task.minibatch_groups=3"], "population_size=8 into equal groups of an even size"),
    (["task.minibatch_groups=8"], "population_size=8 into equal groups of an even size"),
    (["task.minibatch_groups=0"], "must be >= 1"),
    (["task.minibatch=null", "task.minibatch_groups=2"], "needs task.minibatch"),
    (["task.minibatch_groups=2", "prompts=coevolve"], "prompts=coevolve"),
])
def test_groups_that_do_not_fit_name_the_key(compose_config, overrides, message):
    with pytest.raises(ConfigError, match=message) as error:
        build_settings(compose_config(GROUPED + overrides))
    assert "task.minibatch_groups" in str(error.value)


def test_per_prompt_normalisation_ranks_each_group_on_its_own_prompts():
    # group 0 (rows 0-3) answered hard prompts (scores near -9), group 1 (rows 4-7) easy ones
    scores = torch.tensor([[-9.0, -8.0], [-9.5, -8.5], [-8.0, -9.9], [-9.9, -9.0],
                           [-1.0, -2.0], [-1.5, -1.0], [-0.5, -3.0], [-2.0, -0.1]])  # (P=8, N=2)
    weights = shape_per_prompt_in_groups(scores, "centered_rank", groups=2)
    torch.testing.assert_close(weights[:4], shape_per_prompt(scores[:4], "centered_rank"))
    torch.testing.assert_close(weights[4:], shape_per_prompt(scores[4:], "centered_rank"))
    # each group's weights are centred on its own members; ranked across the population,
    # the hard group's members would all weigh below zero
    assert abs(float(weights[:4].sum())) < 1e-6 and abs(float(weights[4:].sum())) < 1e-6
    assert weights[:4].max() > 0
    assert shape_per_prompt(scores, "centered_rank")[:4].max() < 0
    one_group = shape_per_prompt_in_groups(scores, "zscore")
    torch.testing.assert_close(one_group, shape_per_prompt(scores, "zscore"))
    with pytest.raises(ValueError, match="3 equal groups"):
        shape_per_prompt_in_groups(scores, "zscore", groups=3)


def make_per_prompt_es() -> EvolutionStrategy:
    config = ESConfig(population_size=4, normalise_per_prompt=True, optimizer="sgd")  # adam: sign only
    return EvolutionStrategy(config, torch.zeros(6), ConstantSchedule(), torch.Generator().manual_seed(0))


def test_the_run_tells_es_how_many_groups_answered():
    scores = torch.tensor([[-9.0, -8.0], [-9.5, -8.5], [-1.0, -2.0], [-1.5, -1.0]])
    grouped, whole, expected = make_per_prompt_es(), make_per_prompt_es(), make_per_prompt_es()
    tell(grouped, Evaluation(scores=scores), groups=2)
    whole.tell_scores(scores)
    assert not torch.allclose(grouped.best_member(), whole.best_member())
    expected._step(scores.mean(dim=1), shape_per_prompt_in_groups(scores, "centered_rank", 2))
    assert torch.equal(grouped.best_member(), expected.best_member())


def test_a_grouped_run_with_per_prompt_normalisation_learns(compose_config, tmp_path):
    cfg = compose_config(GROUPED + ["task=fr_en", "task.max_train=12", "task.max_eval=2",
                                    "task.transfer_path=null", "task.minibatch_groups=2",
                                    "algorithm.normalise_per_prompt=true"])
    run(cfg, tmp_path / "run")
    checkpoint = load_checkpoint(tmp_path / "run")
    assert [row["perf/reward_evals"] for row in checkpoint["history"]] == [16, 16]
    assert all(row["es/step_norm"] > 0 for row in checkpoint["history"])
