"""Evolution strategies (algorithm=es): noise from seeds, shaping, the update, config checks."""

from __future__ import annotations

import pytest
import torch

from evosweep.algorithms.es import ESConfig, EvolutionStrategy, seeded_noise
from evosweep.algorithms.schedules import ConstantSchedule, LinearDecay
from evosweep.algorithms.shaping import centered_ranks, zscores
from evosweep.errors import ConfigError
from evosweep.settings.build import build_settings


def make_es(dim: int = 6, seed: int = 0, schedule=None, **fields) -> EvolutionStrategy:
    config = ESConfig(**fields)
    return EvolutionStrategy(config, torch.zeros(dim), schedule or ConstantSchedule(),
                             torch.Generator().manual_seed(seed))


def test_fitness_shaping():
    fitness = torch.tensor([3.0, float("nan"), 1.0, 10.0])
    assert centered_ranks(fitness).tolist() == pytest.approx([1 / 6, -0.5, -1 / 6, 0.5])
    z = zscores(torch.tensor([1.0, 2.0, 3.0, 6.0]))
    assert float(z.mean()) == pytest.approx(0.0, abs=1e-6)
    assert float(z.std(unbiased=False)) == pytest.approx(1.0)
    assert zscores(torch.ones(4)).tolist() == [0.0] * 4


def test_antithetic_members_mirror_the_center_and_come_from_stored_seeds():
    es = make_es(dim=5, population_size=6, sigma=0.1)
    population = es.ask()  # (6, 5)
    assert population.shape == (6, 5) and es.seeds.shape == (3,)
    torch.testing.assert_close(population[0::2] + population[1::2], torch.zeros(3, 5))
    for j, seed in enumerate(es.seeds.tolist()):
        torch.testing.assert_close(population[2 * j], 0.1 * seeded_noise(seed, 5))
    assert torch.equal(es.ask(), population)  # ask() is repeatable: noise is regenerated


def test_no_population_sized_noise_is_kept_between_calls():
    es = make_es(dim=10_000, population_size=8, optimizer="adam")
    es.tell(torch.randn(8))
    tensors = [value for value in vars(es).values() if isinstance(value, torch.Tensor)]
    state = [value for value in es.state_dict().values() if isinstance(value, torch.Tensor)]
    assert max(t.numel() for t in tensors + state) <= 10_000


def test_update_is_the_shaped_gradient_estimate():
    dim = 4
    es = make_es(dim=dim, population_size=4, sigma=0.5, learning_rate=1.0, fitness_shaping="zscore",
                 optimizer="sgd")
    population = es.ask()
    noise = (population / 0.5)  # (4, D): +eps0, -eps0, +eps1, -eps1
    fitness = torch.tensor([1.0, 0.0, 3.0, 2.0])
    weights = zscores(fitness)
    expected = (weights[:, None] * noise).sum(dim=0) / (4 * 0.5)
    metrics = es.tell(fitness)
    torch.testing.assert_close(es.best_member(), expected)
    assert metrics["schedule/sigma"] == 0.5
    assert metrics["es/grad_norm"] == pytest.approx(float(expected.norm()), rel=1e-5)


def test_the_default_adam_moves_every_coordinate_by_the_learning_rate_first():
    """es.yaml's optimizer (adam, lr 0.03): the first step is lr * sign(g), whatever g's scale."""
    es = make_es(dim=5, population_size=4)
    assert es.config.optimizer == "adam"
    es.ask()
    metrics = es.tell(torch.tensor([1.0, 0.0, 3.0, 2.0]))
    step = es.best_member()  # the center started at 0
    torch.testing.assert_close(step.abs(), torch.full((5,), es.config.learning_rate))
    assert metrics["es/step_norm"] == pytest.approx(es.config.learning_rate * 5 ** 0.5, rel=1e-5)


@pytest.mark.parametrize("shaping,optimizer,lr", [("centered_rank", "sgd", 0.05), ("zscore", "sgd", 0.02),
                                                  ("zscore", "adam", 0.05)])
def test_es_climbs_a_quadratic(shaping, optimizer, lr):
    target = torch.linspace(-1, 1, 20)
    es = make_es(dim=20, population_size=16, sigma=0.1, learning_rate=lr, fitness_shaping=shaping,
                 optimizer=optimizer)
    start = float((es.best_member() - target).norm())
    for _ in range(150):
        population = es.ask()
        es.tell(-((population - target) ** 2).sum(dim=1))
    assert float((es.best_member() - target).norm()) < 0.3 * start


def test_sigma_follows_the_schedule_and_state_round_trips():
    es = make_es(dim=8, population_size=4, sigma=0.2, generations=5, schedule=LinearDecay(final=0.5))
    sigmas = []
    for _ in range(2):
        es.ask()
        sigmas.append(es.tell(torch.randn(4))["schedule/sigma"])
    state = es.state_dict()
    expected = [es.ask()]
    es.tell(torch.tensor([0.1, 0.4, 0.2, 0.3]))
    expected.append(es.ask())
    other = make_es(dim=8, seed=99, population_size=4, sigma=0.2, generations=5,
                    schedule=LinearDecay(final=0.5))
    other.load_state_dict(state)
    again = [other.ask()]
    other.tell(torch.tensor([0.1, 0.4, 0.2, 0.3]))
    again.append(other.ask())
    assert sigmas == pytest.approx([0.2, 0.2 * 0.875])
    for a, b in zip(expected, again, strict=True):
        assert torch.equal(a, b)


def test_plain_noise_without_mirroring():
    es = make_es(dim=5, population_size=3, antithetic=False)
    assert es.seeds.shape == (3,) and es.ask().shape == (3, 5)


@pytest.mark.parametrize("overrides,field,words", [
    (["algorithm.population_size=7"], "algorithm.population_size", "antithetic"),
    (["algorithm.sigma=0"], "algorithm.sigma", "> 0"),
    (["algorithm.fitness_shaping=fitness"], "algorithm.fitness_shaping", "centered_rank"),
    (["algorithm.optimizer=lbfgs"], "algorithm.optimizer", "adam"),
    (["algorithm.learning_rate=-1"], "algorithm.learning_rate", "> 0"),
])
def test_invalid_es_settings_fail_at_start_up(compose_config, overrides, field, words):
    with pytest.raises(ConfigError) as error:
        build_settings(compose_config(["algorithm=es", *overrides]))
    assert error.value.field == field
    assert words in str(error.value)


def test_odd_population_is_fine_without_mirroring(compose_config):
    settings = build_settings(compose_config(["algorithm=es", "algorithm.population_size=7",
                                              "algorithm.antithetic=false"]))
    assert settings.algorithm.population_size == 7
