"""``algorithm.noise_scale=module_output``: each module's noise moves its output by the same share."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from evosweep.algorithms.es import ESConfig, EvolutionStrategy
from evosweep.algorithms.noise_scale import module_output_scales
from evosweep.algorithms.schedules import ConstantSchedule
from evosweep.errors import ConfigError
from evosweep.evaluation.prompts import encode_prompts
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.run import run
from evosweep.state.checkpoint import load_checkpoint
from evosweep.tasks.pairs import Pair

PAIRS = [Pair("chat", "cat"), Pair("bonjour tout le monde", "hello everyone"), Pair("eau", "water")]


def rank_one_lora(loaded):
    settings = replace(loaded.settings, lora=replace(loaded.settings.lora, r=1))
    loaded = replace(loaded, settings=settings)
    layout = LoraLayout.from_model(loaded.model, settings.lora)
    return loaded, BatchedLora(loaded.model, layout)


def module_outputs(loaded, lora, member: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """Each wrapped module's output on PAIRS' prompts, with ``member`` set (None: the base)."""
    outputs: dict[str, torch.Tensor] = {}
    handles = [layer.register_forward_hook(
        lambda _m, _i, out, name=layer.slot.module_name: outputs.__setitem__(name, out.detach().clone()))
        for layer in lora.layers]
    encoded = encode_prompts(loaded, PAIRS, "cpu")
    try:
        with torch.no_grad():
            if member is None:
                loaded.model(**encoded)
            else:
                with lora.members(member.unsqueeze(0)):
                    loaded.model(**encoded)
    finally:
        for handle in handles:
            handle.remove()
    mask = encoded["attention_mask"].bool()
    return {name: out[mask] for name, out in outputs.items()}


@pytest.mark.parametrize("fixture", ["tiny_llama", "tiny_gpt2"])
def test_a_unit_of_scaled_noise_moves_every_module_output_by_the_same_share(fixture, request):
    loaded, lora = rank_one_lora(request.getfixturevalue(fixture))
    layout = lora.layout
    initial = layout.initial_member(torch.Generator().manual_seed(0))
    scales = module_output_scales(loaded, lora, initial, PAIRS, layout.b_mask())
    base = module_outputs(loaded, lora, None)
    shares = []
    for slot in layout.slots:  # B of one module at a time set to its factor
        member = initial.clone()
        member[slot.offset + slot.a_size : slot.offset + slot.size] = scales[slot.offset + slot.size - 1]
        moved = module_outputs(loaded, lora, member)[slot.module_name]
        before = base[slot.module_name]
        shares.append(float((moved - before).pow(2).mean().sqrt() / before.pow(2).mean().sqrt()))
    assert max(shares) == pytest.approx(min(shares), rel=1e-3)
    # against one sigma for all, the shares differ between modules
    factors = [float(scales[slot.offset + slot.size - 1]) for slot in layout.slots]
    uniform = [share / factor for share, factor in zip(shares, factors, strict=True)]
    assert max(uniform) > 1.1 * min(uniform)


def test_factors_are_constant_per_module_rms_one_over_evolved_entries_and_one_elsewhere(tiny_llama):
    layout = LoraLayout.from_model(tiny_llama.model, tiny_llama.settings.lora)
    lora = BatchedLora(tiny_llama.model, layout)
    mask = layout.b_mask()
    scales = module_output_scales(tiny_llama, lora, layout.initial_member(torch.Generator().manual_seed(0)),
                                  PAIRS, mask)
    assert float(scales[mask].pow(2).mean()) == pytest.approx(1.0)
    assert torch.equal(scales[~mask], torch.ones(int((~mask).sum())))
    for slot in layout.slots:
        block = scales[slot.offset + slot.a_size : slot.offset + slot.size]
        assert torch.equal(block, block[:1].expand_as(block))


def test_es_runs_in_scaled_coordinates():
    scales = torch.tensor([1.0, 2.0, 0.5, 4.0])
    initial = torch.tensor([0.3, -0.2, 0.1, 0.0])
    config = ESConfig(population_size=4, sigma=0.1)
    es = EvolutionStrategy(config, initial, ConstantSchedule(), torch.Generator().manual_seed(0),
                           scales=scales)
    plain = EvolutionStrategy(config, initial, ConstantSchedule(), torch.Generator().manual_seed(0))
    torch.testing.assert_close(es.best_member(), initial)
    # the same seeds: each member's offset from the center is the plain one times the factors
    torch.testing.assert_close(es.ask() - initial, (plain.ask() - initial) * scales)
    fitness = torch.tensor([1.0, 0.0, 3.0, 2.0])
    es.tell(fitness)
    plain.tell(fitness)
    # Adam's first step moves each coordinate by lr in u = theta / s, so by lr * s in theta
    torch.testing.assert_close(es.best_member() - initial, (plain.best_member() - initial) * scales)
    resumed = EvolutionStrategy(config, initial, ConstantSchedule(), torch.Generator().manual_seed(1),
                                scales=scales)
    resumed.load_state_dict(es.state_dict())
    torch.testing.assert_close(resumed.best_member(), es.best_member())
    torch.testing.assert_close(resumed.ask(), es.ask())


def test_unknown_noise_scale_names_the_field():
    with pytest.raises(ConfigError, match="algorithm.noise_scale"):
        ESConfig(noise_scale="per_layer")


def test_module_output_without_train_prompts_names_the_field(tiny_llama):
    layout = LoraLayout.from_model(tiny_llama.model, tiny_llama.settings.lora)
    lora = BatchedLora(tiny_llama.model, layout)
    with pytest.raises(ConfigError, match="algorithm.noise_scale.*use uniform"):
        module_output_scales(tiny_llama, lora, torch.zeros(layout.dim), [], layout.b_mask())


def test_entries_that_do_not_evolve_stay_exactly_where_they_were():
    initial = torch.tensor([0.3, -0.2, 0.1, 0.7])
    mask = torch.tensor([False, True, False, True])
    scales = torch.tensor([1.0, 3.0, 1.0, 0.25])
    es = EvolutionStrategy(ESConfig(population_size=4), initial, ConstantSchedule(),
                           torch.Generator().manual_seed(0), mask, scales)
    assert torch.equal(es.ask()[:, ~mask], initial[~mask].expand(4, 2))
    es.tell(torch.tensor([1.0, 0.0, 3.0, 2.0]))
    assert torch.equal(es.best_member()[~mask], initial[~mask])
    assert not torch.equal(es.best_member()[mask], initial[mask])


def test_a_run_with_module_output_noise(compose_config, tmp_path):
    overrides = ["model=tiny-llama", "algorithm=es", "algorithm.population_size=6",
                 "algorithm.generations=2", "algorithm.noise_scale=module_output", "task=bonjour",
                 "tracking=none", "eval.max_new_tokens=4"]
    run(compose_config(overrides), tmp_path)
    history = load_checkpoint(tmp_path)["history"]
    assert len(history) == 2
    assert all(row["es/step_norm"] > 0 for row in history)
