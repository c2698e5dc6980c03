"""``algorithm.rl`` comes from one file for pg and hybrid, and becomes one settings class."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from evosweep.algorithms.grpo import PolicyGradientSettings, as_rl_settings
from evosweep.settings.build import build_settings

RL_FILE = Path(__file__).resolve().parent.parent / "conf" / "algorithm" / "rl" / "default.yaml"


def test_pg_and_hybrid_compose_the_shared_rl_file(compose_config):
    shared = OmegaConf.to_container(OmegaConf.load(RL_FILE))
    for algorithm in ("pg", "hybrid"):
        cfg = compose_config([f"algorithm={algorithm}"])
        assert OmegaConf.to_container(cfg.algorithm.rl) == shared, algorithm
        assert list(cfg.algorithm)[-1] == "rl"  # the composed key order is the one of old
        assert cfg.reward._target_.endswith("ChrfReward"), algorithm  # the reward override still applies


def test_rl_overrides_reach_the_built_settings(compose_config):
    for algorithm in ("pg", "hybrid"):
        settings = build_settings(compose_config([f"algorithm={algorithm}", "algorithm.rl.group_size=7"]))
        assert settings.algorithm.rl == PolicyGradientSettings(group_size=7)


def test_as_rl_settings_takes_a_dict_or_settings():
    settings = PolicyGradientSettings(clip=0.3)
    assert as_rl_settings(settings) is settings
    assert as_rl_settings({"clip": 0.3}) == settings
