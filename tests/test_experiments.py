"""Every ablation in conf/experiment composes, sweeps >= 3 seeds, and each grid cell validates."""

from __future__ import annotations

import functools

import pytest
from experiment_arms import CONF, EXPERIMENTS, arm_cells, sweep_grid
from hydra import compose, initialize_config_dir

from evosweep.run import run
from evosweep.settings.build import build_settings
from evosweep.state.checkpoint import load_checkpoint

#: experiments of one arm: a replication, or one lever set beside the arms of an earlier
#: experiment whose results it cites (the same settings, unchanged, in the docs)
SINGLE = {
    "qiu2025_countdown_es",
    "qiu2025_conciseness_600_groups",
    "qiu2025_conciseness_600_minibatch2",
    "es_step_prompt_norm",
}


@pytest.fixture(scope="module", autouse=True)
def hydra_conf():
    """One Hydra initialisation for the whole module (composing is then cheap)."""
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        yield


def _compose(overrides: list[str], hydra: bool = False):
    return compose("config", overrides=overrides, return_hydra_config=hydra)


@functools.cache
def _grid(name: str) -> tuple[dict[str, list[str]], object]:
    """The experiment's sweep as {key: [values]} and its composed config."""
    cfg = _compose([f"+experiment={name}"], hydra=True)
    return sweep_grid(cfg), cfg


def test_the_issue_s_ablations_exist():
    assert {"qiu2025_countdown_es", "qiu2025_sigma", "such2017_ga", "ga_vs_es_vs_pg",
            "population_size", "lora_rank"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_file_cites_its_source_and_sweeps_seeds(name):
    text = (CONF / "experiment" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_\n")
    assert "Source:" in text and "Scaled down" in text
    assert f"python -m evosweep -m +experiment={name}" in text
    grid, cfg = _grid(name)
    assert len(grid["seed"]) >= 3
    assert cfg.tracking.experiment == name
    assert len(arm_cells(grid)) >= (1 if name in SINGLE else 2)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_configuration_of_the_grid_builds(name):
    grid, _ = _grid(name)
    labels = set()
    for cell in arm_cells(grid):
        # a multirun puts the sweep's own params first: the arm must win in either order
        cfg = _compose([*cell, f"+experiment={name}"])
        assert cfg == _compose([f"+experiment={name}", *cell]), cell
        build_settings(cfg)  # raises ConfigError on a contradictory cell
        labels.add(cfg.ablation)
    assert len(labels) == len(arm_cells(grid))  # each configuration has its own report label


def test_qiu_sigma_uses_the_paper_s_step_alpha_equal_sigma_over_two():
    grid, _ = _grid("qiu2025_sigma")
    sigmas = []
    for cell in arm_cells(grid):
        algorithm = _compose(["+experiment=qiu2025_sigma", *cell]).algorithm
        sigmas.append(algorithm.sigma)
        # evosweep divides by sigma where the paper does not: lr = alpha * sigma = sigma^2 / 2
        assert algorithm.learning_rate == pytest.approx(algorithm.sigma**2 / 2)
        assert algorithm.fitness_shaping == "zscore" and not algorithm.antithetic
    assert sorted(sigmas) == [0.0005, 0.001, 0.0015]


def test_ga_es_pg_hybrid_spend_the_same_reward_budget(tmp_path):
    """Each arm runs (tiny model, same budget settings) and its logged perf/reward_evals add up equal."""
    grid, _ = _grid("ga_vs_es_vs_pg")
    budgets = {}
    for cell in arm_cells(grid):
        cfg = _compose(["+experiment=ga_vs_es_vs_pg", *cell, "model=tiny-gpt2", "tracking=none"])
        run(cfg, tmp_path / cfg.algorithm.name)
        history = load_checkpoint(tmp_path / cfg.algorithm.name)["history"]
        assert len(history) == cfg.algorithm.generations
        budgets[cfg.algorithm.name] = sum(row["perf/reward_evals"] for row in history)
    assert budgets == {"ga": 128, "es": 128, "pg": 128, "hybrid": 128}


def test_conciseness_arms_spend_the_same_reward_budget(tmp_path):
    """ES scores 32 texts a generation, pg 32 samples + its adapter on the 2 train prompts
    (2 generations on the tiny model here)."""
    grid, _ = _grid("qiu2025_conciseness")
    budgets = {}
    for cell in arm_cells(grid):
        cfg = _compose(["+experiment=qiu2025_conciseness", *cell, "model=tiny-gpt2", "tracking=none",
                        "algorithm.generations=2", "eval.max_new_tokens=4"])
        run(cfg, tmp_path / cfg.ablation)
        history = load_checkpoint(tmp_path / cfg.ablation)["history"]
        budgets[cfg.ablation] = [row["perf/reward_evals"] for row in history]
        assert all("heldout/kl" in row and "heldout/chrf" in row for row in history)
    assert budgets == {"es": [32.0, 32.0], **dict.fromkeys(["pg-kl0", "pg-kl0.01", "pg-kl0.1"], [34.0, 34.0])}
