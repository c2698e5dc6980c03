"""Selection, crossover and mutation operators: what they pick, mix and perturb."""

from __future__ import annotations

import pytest
import torch

from evosweep.algorithms.operators import (
    ArithmeticCrossover,
    GaussianMutation,
    NoCrossover,
    PerModuleCrossover,
    RankSelection,
    TournamentSelection,
    TruncationSelection,
    UniformCrossover,
)
from evosweep.errors import ConfigError
from evosweep.lora.layout import LoraLayout
from evosweep.settings.build import build_settings


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


FITNESS = torch.tensor([0.3, 0.9, float("nan"), 0.1, 0.5, 0.7])  # best: 1, 5, 4, 0, 3; 2 failed


def test_truncation_draws_only_the_top_members():
    picked = TruncationSelection(top=2)(FITNESS, 400, gen())
    assert set(picked.tolist()) == {1, 5}


def test_tournament_of_the_whole_population_always_returns_the_best():
    picked = TournamentSelection(size=6)(FITNESS, 50, gen())
    assert picked.tolist() == [1] * 50


def test_tournament_of_one_is_uniform_and_bigger_tournaments_favour_the_fit():
    uniform = torch.bincount(TournamentSelection(size=1)(FITNESS, 6000, gen()), minlength=6)
    assert uniform.min() > 850 and uniform.max() < 1150
    picked = TournamentSelection(size=3)(FITNESS, 6000, gen(1))
    counts = torch.bincount(picked, minlength=6)
    # P(best of 3 distinct) for rank r (0 = best) of 6: C(5-r, 2) / C(6, 3)
    expected = torch.tensor([1, 10, 0, 0, 3, 6], dtype=torch.float32) / 20 * 6000
    assert counts[2] == 0 and counts[3] == 0  # the failed and the worst never win
    assert torch.allclose(counts.float(), expected, atol=150)


def test_rank_selection_is_proportional_to_rank():
    counts = torch.bincount(RankSelection()(FITNESS, 21000, gen()), minlength=6).float()
    # ranks (worst = 1): nan->1, 0.1->2, 0.3->3, 0.5->4, 0.7->5, 0.9->6; sum 21
    expected = torch.tensor([3, 6, 1, 2, 4, 5], dtype=torch.float32) * 1000
    assert torch.allclose(counts, expected, atol=200)


def test_selection_repeats_with_the_same_generator():
    for selection in (TruncationSelection(3), TournamentSelection(2), RankSelection()):
        assert torch.equal(selection(FITNESS, 20, gen(5)), selection(FITNESS, 20, gen(5)))


@pytest.mark.parametrize("overrides,field", [
    (["operators/selection=tournament", "operators.selection.size=9"], "operators.selection.size"),
    (["operators/selection=tournament", "operators.selection.size=0"], "operators.selection.size"),
    (["operators.selection.top=9"], "operators.selection.top"),
    (["operators/crossover=arithmetic", "operators.crossover.weight=1.5"], "operators.crossover.weight"),
    (["operators.mutation.prob=-0.1"], "operators.mutation.prob"),
])
def test_invalid_operator_settings_fail_at_start_up(compose_config, overrides, field):
    with pytest.raises(ConfigError) as error:
        build_settings(compose_config(["algorithm=ga", *overrides, "algorithm.population_size=8"]))
    assert error.value.field == field
    if "9" in overrides[-1]:
        assert "algorithm.population_size" in str(error.value)


PARENTS = torch.zeros(64, 100), torch.ones(64, 100)


def test_uniform_crossover_takes_each_weight_from_one_parent():
    child = UniformCrossover(rate=1.0)(*PARENTS, gen())
    assert set(child.unique().tolist()) == {0.0, 1.0}
    assert 0.4 < child.mean() < 0.6
    assert torch.equal(UniformCrossover(rate=0.0)(*PARENTS, gen()), PARENTS[0])


def test_arithmetic_crossover_blends():
    first, second = torch.randn(32, 10, generator=gen(1)), torch.randn(32, 10, generator=gen(2))
    midpoint = ArithmeticCrossover(weight=0.5)(first, second, gen())
    torch.testing.assert_close(midpoint, (first + second) / 2)
    child = ArithmeticCrossover()(*PARENTS, gen())  # (64, 100): w * 0 + (1 - w) * 1 per child
    per_child = child[:, 0]
    assert torch.equal(child, per_child[:, None].expand_as(child))
    assert 0 < per_child.min() and per_child.max() < 1 and per_child.std() > 0.1
    assert torch.equal(ArithmeticCrossover(rate=0.0)(*PARENTS, gen()), PARENTS[0])


@pytest.mark.parametrize("keep_pairs", [True, False])
def test_per_module_crossover_swaps_whole_lora_matrices(tiny_gpt2, keep_pairs):
    layout = LoraLayout.from_model(tiny_gpt2.model, tiny_gpt2.settings.lora)
    crossover = PerModuleCrossover(keep_pairs=keep_pairs)
    crossover.bind(layout)
    first, second = torch.zeros(40, layout.dim), torch.ones(40, layout.dim)
    child = crossover(first, second, gen())
    bounds = layout.module_boundaries()
    sources = torch.stack([child[:, start:end].mean(dim=1) for start, end in bounds], dim=1)  # (C, 2M)
    assert set(sources.unique().tolist()) == {0.0, 1.0}  # every matrix whole from one parent
    same_source = sources[:, 0::2] == sources[:, 1::2]  # A and B of a module from one parent
    assert bool(same_source.all()) is keep_pairs
    assert 0.3 < sources.mean() < 0.7


def test_per_module_crossover_needs_the_layout():
    with pytest.raises(RuntimeError, match="bind"):
        PerModuleCrossover()(*PARENTS, gen())


def test_the_ga_binds_the_layout_of_crossovers_that_need_one(tiny_gpt2):
    """PerModuleCrossover is a NeedsLayout and gets bound when the GA is built; others are left alone."""
    from evosweep.algorithms.context import AlgorithmContext
    from evosweep.algorithms.ga import GAConfig
    from evosweep.algorithms.operators.crossover import NeedsLayout
    from evosweep.algorithms.schedules import ConstantSchedule

    layout = LoraLayout.from_model(tiny_gpt2.model, tiny_gpt2.settings.lora)
    assert isinstance(PerModuleCrossover(), NeedsLayout)
    assert not any(isinstance(c(), NeedsLayout) for c in (UniformCrossover, ArithmeticCrossover, NoCrossover))
    for crossover in (PerModuleCrossover(), UniformCrossover()):
        context = AlgorithmContext(initial_member=torch.zeros(layout.dim), generator=gen(),
                                   selection=TruncationSelection(2), crossover=crossover,
                                   mutation=GaussianMutation(), schedule=ConstantSchedule(), layout=layout)
        ga = GAConfig(population_size=4, elite=1).build(context)
        ga.tell(torch.arange(4.0))  # breeds children: PerModuleCrossover would raise unbound
        assert ga.ask().shape == (4, layout.dim)


def test_no_crossover_copies_the_first_parent():
    child = NoCrossover()(*PARENTS, gen())
    assert torch.equal(child, PARENTS[0]) and child is not PARENTS[0]


def test_gaussian_mutation_scale_and_probability():
    children = torch.zeros(200, 500)
    full = GaussianMutation()(children, 0.05, gen())
    assert abs(float(full.std()) - 0.05) < 0.002
    sparse = GaussianMutation(prob=0.3)(children, 0.05, gen())
    assert abs(float((sparse != 0).float().mean()) - 0.3) < 0.01
    assert torch.equal(GaussianMutation(prob=0.0)(children, 0.05, gen()), children)
