"""One seed range for every seed drawn to seed another generator."""

from __future__ import annotations

import torch

from evosweep.algorithms.es import ESConfig, EvolutionStrategy
from evosweep.algorithms.schedules import ConstantSchedule
from evosweep.seeds import SEED_RANGE, draw_seeds


def test_every_drawn_seed_seeds_a_torch_generator():
    seeds = draw_seeds(1000, torch.Generator().manual_seed(0))
    assert seeds.shape == (1000,) and int(seeds.min()) >= 0 and int(seeds.max()) < SEED_RANGE
    torch.Generator().manual_seed(SEED_RANGE - 1)  # the largest possible seed is accepted
    torch.manual_seed(SEED_RANGE - 1)  # as the workers' sampling seed (eval.do_sample)


def test_es_draws_the_seeds_it_always_drew():
    """Same config seed, same noise directions as before the range moved to evosweep.seeds."""
    es = EvolutionStrategy(ESConfig(population_size=8), torch.zeros(3), ConstantSchedule(),
                           torch.Generator().manual_seed(7))
    expected = torch.randint(2**62, (4,), generator=torch.Generator().manual_seed(7))
    assert torch.equal(es.seeds, expected)
