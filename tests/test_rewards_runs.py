"""One short run per reward on tiny-gpt2: every reported fitness stays in the reward's range."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TINY_RUN

from evosweep.run import run
from evosweep.settings.build import build_settings
from evosweep.state.checkpoint import load_checkpoint

SHORT = TINY_RUN + ["algorithm.population_size=4", "algorithm.generations=2"]


def run_in_range(cfg, output_dir: Path) -> list[dict]:
    """Run ``cfg``; assert each generation's fitness and held-out score lie in the reward's range."""
    low, high = build_settings(cfg).reward.value_range
    final = run(cfg, output_dir)
    history = load_checkpoint(output_dir)["history"]
    assert len(history) == cfg.algorithm.generations
    for row in history:
        assert low <= row["fitness/mean"] <= row["fitness/best"] <= high
        assert row["fitness/failed_members"] == 0
        assert low <= row["heldout/best"] <= high
    assert low <= final <= high
    return history


@pytest.mark.parametrize("reward", ["bleu", "chrf", "embedding", "sentiment", "length", "composite"])
def test_short_run_stays_in_the_documented_range(reward, compose_config, tmp_path):
    run_in_range(compose_config(SHORT + [f"reward={reward}"]), tmp_path)
