"""GA + policy gradient (algorithm=hybrid): when the elite is polished, where it goes, what is logged."""

from __future__ import annotations

import pytest
import torch
from conftest import TINY_RUN
from test_pg import rl_context

from evosweep.algorithms.hybrid import HybridConfig
from evosweep.algorithms.operators import GaussianMutation, TruncationSelection, UniformCrossover
from evosweep.algorithms.schedules import ConstantSchedule
from evosweep.errors import ConfigError
from evosweep.run import run
from evosweep.settings.build import build_settings
from evosweep.state.checkpoint import load_checkpoint


def test_every_k_generations_a_polished_copy_of_the_elite_replaces_the_last_child(tiny_gpt2):
    context = rl_context(tiny_gpt2)
    context.selection, context.crossover = TruncationSelection(2), UniformCrossover()
    context.mutation, context.schedule = GaussianMutation(), ConstantSchedule()
    config = HybridConfig(population_size=4, elite=1, generations=4, mutation_scale=0.05, rl_every=2,
                          rl_steps=2, rl={"group_size": 2, "prompts_per_step": 2, "epochs": 1})
    hybrid = config.build(context)
    torch.manual_seed(0)
    seen = []
    for generation in range(4):
        population = hybrid.ask().clone()
        fitness = torch.tensor([0.0, 1.0, 0.5, 0.2]) + generation
        metrics = hybrid.tell(fitness)
        steps = hybrid.step_metrics()
        seen.append([step["rl/step"] for step in steps])
        assert metrics["perf/rl_reward_evals"] == len(steps) * 2 * 2
        assert torch.equal(hybrid.population[0], population[1])  # the elite itself is kept
        if steps:
            assert torch.equal(hybrid.population[-1], hybrid.trainer.policy.detach())
            assert not torch.equal(hybrid.population[-1], population[1])
    assert seen == [[], [0.0, 1.0], [], []]  # no RL after the last generation: never scored


def test_hybrid_state_includes_the_trainer(tiny_gpt2):
    context = rl_context(tiny_gpt2)
    context.selection, context.crossover = TruncationSelection(2), UniformCrossover()
    context.mutation, context.schedule = GaussianMutation(), ConstantSchedule()
    hybrid = HybridConfig(population_size=4, elite=1, rl_every=1, rl_steps=1,
                          rl={"group_size": 2, "prompts_per_step": 1}).build(context)
    hybrid.tell(torch.arange(4.0))
    state = hybrid.state_dict()
    assert state["trainer"]["steps_done"] == 1 and state["generation"] == 1
    assert "optimizer" in state["trainer"]


@pytest.mark.parametrize("overrides,field", [
    (["algorithm.elite=0"], "algorithm.elite"),
    (["algorithm.elite=8"], "algorithm.elite"),
    (["algorithm.rl_every=0"], "algorithm.rl_every"),
    (["algorithm.rl.learning_rate=0"], "algorithm.rl.learning_rate"),
    (["operators/selection=tournament", "operators.selection.size=9"], "operators.selection.size"),
])
def test_invalid_hybrid_settings_fail_at_start_up(compose_config, overrides, field):
    with pytest.raises(ConfigError) as error:
        build_settings(compose_config(["algorithm=hybrid", *overrides]))
    assert error.value.field == field


def test_hybrid_run_records_rl_steps_and_counts_their_reward_evals(compose_config, tmp_path):
    overrides = TINY_RUN + [
        "algorithm=hybrid", "algorithm.generations=4", "algorithm.rl_every=2", "algorithm.rl_steps=2",
        "algorithm.rl.group_size=2", "algorithm.rl.prompts_per_step=1"]
    run(compose_config(overrides), tmp_path)
    checkpoint = load_checkpoint(tmp_path)
    evals = [row["perf/reward_evals"] for row in checkpoint["history"]]
    assert evals == [6.0, 6.0 + 4, 6.0, 6.0]  # 6 members x 1 prompt, + 2 steps x 2 samples
    assert [step["rl/step"] for step in checkpoint["rl_history"]] == [0, 1]  # none after the last
    assert {"rl/loss", "rl/kl", "rl/reward"} <= set(checkpoint["rl_history"][0])


def test_rl_steps_move_only_what_evolve_lets_evolve(tiny_gpt2):
    """algorithm.evolve=lora_b: the polished elite keeps every A entry of the elite it came from."""
    context = rl_context(tiny_gpt2)
    context.selection, context.crossover = TruncationSelection(2), UniformCrossover()
    context.mutation, context.schedule = GaussianMutation(), ConstantSchedule()
    hybrid = HybridConfig(population_size=4, elite=1, evolve="lora_b", rl_every=1, rl_steps=2,
                          rl={"group_size": 2, "prompts_per_step": 2, "epochs": 2,
                              "learning_rate": 0.05}).build(context)
    b_entries = context.layout.b_mask()
    torch.manual_seed(0)
    hybrid.tell(torch.tensor([0.0, 1.0, 0.5, 0.2]))
    elite, polished = hybrid.population[0], hybrid.population[-1]
    assert torch.equal(polished[~b_entries], elite[~b_entries])  # A unchanged
    assert not torch.equal(polished[b_entries], elite[b_entries])  # B trained
