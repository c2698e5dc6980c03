"""The policy-gradient trainer (algorithm=pg): log-probs, loss, gradients, learning, config."""

from __future__ import annotations

import pytest
import torch

from evosweep.algorithms.context import AlgorithmContext
from evosweep.algorithms.grpo import (
    PolicyGradientSettings,
    PolicyGradientTrainer,
    clipped_objective,
    group_advantages,
)
from evosweep.algorithms.rollouts import completion_logprobs, completion_mask, sample_rollout
from evosweep.errors import ConfigError
from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.settings.build import build_settings
from evosweep.settings.evaluation import EvalSettings
from evosweep.tasks.pairs import Pair

PAIRS = [Pair("Say a:", "a"), Pair("Translate 'bonjour' to English:", "hello"), Pair("x", "y")]


def share_of_a(completions, references, prompts=None) -> list[float]:
    """A dense text reward for a random tiny model: the share of 'a' characters."""
    return [text.count("a") / max(len(text), 1) for text in completions]


def rl_context(loaded, reward=share_of_a, seed: int = 0, max_new_tokens: int = 6):
    layout = LoraLayout.from_model(loaded.model, loaded.settings.lora)
    lora = BatchedLora(loaded.model, layout)
    generator = torch.Generator().manual_seed(seed)
    evaluator = PopulationEvaluator(loaded, lora, reward, EvalSettings(max_new_tokens=max_new_tokens))
    return AlgorithmContext(
        initial_member=layout.initial_member(generator), generator=generator, selection=None,
        crossover=None, mutation=None, schedule=None, loaded=loaded, layout=layout, lora=lora,
        evaluator=evaluator, reward=reward, train_pairs=PAIRS,
    )


def test_completion_mask_keeps_tokens_through_the_first_eos():
    ids = torch.tensor([[5, 6, 9, 9, 9], [5, 9, 6, 9, 7], [1, 2, 3, 4, 5]])
    assert completion_mask(ids, {9}).tolist() == [[1, 1, 1, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 1, 1]]


def test_logprobs_match_the_distribution_generate_sampled_from(tiny_gpt2):
    """Left padding, positions and temperature: our forward scores what generate drew."""
    context = rl_context(tiny_gpt2)
    member = context.initial_member.clone()
    member[context.layout.slots[0].offset + context.layout.slots[0].a_size:] += 0.3  # a non-zero B
    torch.manual_seed(7)
    rollout = sample_rollout(tiny_gpt2, context.lora, member, PAIRS, 2, 5, 0.7, 1.0)
    torch.manual_seed(7)
    ids = rollout.sequences[:, : rollout.prompt_length]
    with context.lora.members(member[None]), torch.no_grad():
        out = tiny_gpt2.model.generate(
            input_ids=ids, attention_mask=rollout.attention[:, : rollout.prompt_length], do_sample=True,
            temperature=0.7, top_p=1.0, top_k=0, max_new_tokens=5, output_scores=True,
            return_dict_in_generate=True, pad_token_id=tiny_gpt2.tokenizer.pad_token_id)
        ours = completion_logprobs(tiny_gpt2, rollout, 0.7)  # (R, T)
    assert torch.equal(out.sequences, rollout.sequences)
    theirs = torch.stack([torch.log_softmax(s.float(), dim=-1) for s in out.scores], dim=1)  # (R, T, V)
    theirs = theirs.gather(2, rollout.completions.unsqueeze(2)).squeeze(2)
    kept = rollout.completion_mask.bool()
    torch.testing.assert_close(ours[kept], theirs[kept], rtol=1e-4, atol=1e-4)
    assert ids.shape[0] == 6 and (rollout.attention[:, 0] == 0).any()  # prompts really were padded


def test_advantages_are_relative_to_the_group():
    rewards = torch.tensor([[1.0, 0.0, 0.5, 0.5], [0.2, 0.2, 0.2, 0.2]])
    advantages = group_advantages(rewards)
    torch.testing.assert_close(advantages[0].mean(), torch.tensor(0.0))
    assert advantages[0, 0] > 0 > advantages[0, 1]
    assert advantages[1].abs().max() == 0  # nothing to learn from a flat group


def test_ppo_clip_stops_the_push_beyond_the_trust_region():
    old = torch.zeros(2, 3)
    new = torch.tensor([[0.5, 0.0, 0.0], [0.0, 0.0, 0.0]], requires_grad=True)  # ratio e^0.5 > 1.2
    advantages = torch.tensor([1.0, 1.0])
    loss, info = clipped_objective(new, old, new.detach(), advantages, torch.ones(2, 3), 0.2, 0.0)
    loss.backward()
    assert new.grad[0, 0] == 0  # clipped: no gradient pushes the ratio further up
    assert new.grad[0, 1] < 0 and new.grad[1, 0] < 0  # unclipped tokens: raise their log-prob
    assert info["clip_fraction"] == pytest.approx(1 / 6)


def test_kl_penalty_is_zero_at_the_base_and_positive_away_from_it():
    reference = torch.log_softmax(torch.randn(2, 4), dim=-1)
    same, info = clipped_objective(reference, reference, reference, torch.zeros(2), torch.ones(2, 4),
                                   0.2, 1.0)
    assert float(info["kl"]) == pytest.approx(0.0, abs=1e-7)
    moved, info = clipped_objective(reference + 0.3, reference + 0.3, reference, torch.zeros(2),
                                    torch.ones(2, 4), 0.2, 1.0)
    assert float(info["kl"]) > 0 and float(moved) > 0


def test_a_step_trains_the_lora_vector_only(tiny_gpt2):
    context = rl_context(tiny_gpt2)
    base = {name: p.detach().clone() for name, p in tiny_gpt2.model.named_parameters()}
    trainer = PolicyGradientTrainer(PolicyGradientSettings(epochs=2, kl_coef=0.1), context)
    before = trainer.policy.detach().clone()
    torch.manual_seed(0)
    (first,) = trainer.train(1)
    assert first["rl/step"] == 0 and set(first) >= {"rl/loss", "rl/kl", "rl/reward"}
    assert not torch.equal(trainer.policy.detach(), before)
    for name, parameter in tiny_gpt2.model.named_parameters():
        assert torch.equal(parameter, base[name]), name
        assert parameter.grad is None, name


def test_policy_gradient_raises_a_dense_reward(tiny_gpt2):
    context = rl_context(tiny_gpt2, seed=1)
    settings = PolicyGradientSettings(learning_rate=0.03, group_size=8, prompts_per_step=3, epochs=2,
                                      kl_coef=0.0)
    trainer = PolicyGradientTrainer(settings, context)
    torch.manual_seed(1)
    rewards = [step["rl/reward"] for step in trainer.train(12)]
    assert sum(rewards[-3:]) / 3 > sum(rewards[:3]) / 3 + 0.1, rewards


def test_trainer_state_round_trip_repeats_the_steps(tiny_gpt2):
    context = rl_context(tiny_gpt2)
    trainer = PolicyGradientTrainer(PolicyGradientSettings(), context)
    torch.manual_seed(3)
    trainer.train(1)
    state, rng, gen = trainer.state_dict(), torch.get_rng_state(), context.generator.get_state()
    expected = trainer.train(2)
    trainer.policy.data.zero_()
    trainer.load_state_dict(state)
    torch.set_rng_state(rng)
    context.generator.set_state(gen)
    assert trainer.train(2) == expected


@pytest.mark.parametrize("overrides,field", [
    (["algorithm=pg", "reward=likelihood"], "reward"),
    (["algorithm=hybrid", "reward=likelihood"], "reward"),
    (["algorithm=pg", "algorithm.population_size=4"], "algorithm.population_size"),
    (["algorithm=pg", "algorithm.rl.group_size=1"], "algorithm.rl.group_size"),
    (["algorithm=pg", "algorithm.rl.clip=0"], "algorithm.rl.clip"),
    (["algorithm=pg", "algorithm.rl.kl_coef=-1"], "algorithm.rl.kl_coef"),
])
def test_invalid_pg_settings_fail_at_start_up(compose_config, overrides, field):
    with pytest.raises(ConfigError) as error:
        build_settings(compose_config(overrides))
    assert error.value.field == field


def test_pg_defaults_to_a_text_reward(compose_config):
    settings = build_settings(compose_config(["algorithm=pg"]))
    assert type(settings.reward).__name__ == "ChrfReward"
    assert settings.algorithm.population_size == 1


def test_sampling_old_and_new_logprobs_agree_on_dropout(tiny_gpt2):
    """With model.lora.dropout on, an update of size ~0 leaves the second epoch's ratio exactly 1:
    old and new log-probs come from the same (dropout-free) policy that sampled."""
    tiny_gpt2.settings.lora.dropout = 0.9
    context = rl_context(tiny_gpt2)
    layout = context.layout
    member = context.initial_member.clone()
    member[layout.b_mask()] = torch.randn(int(layout.b_mask().sum()),
                                          generator=torch.Generator().manual_seed(0)) * 0.5
    trainer = PolicyGradientTrainer(PolicyGradientSettings(epochs=2, learning_rate=1e-12, clip=1e-6,
                                                           kl_coef=0.0), context)
    trainer.load_member(member)
    torch.manual_seed(0)
    (step,) = trainer.train(1)
    assert step["rl/clip_fraction"] == 0.0  # with two dropout masks most ratios left the 1e-6 band
