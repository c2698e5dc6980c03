"""Every config group composes and builds; bad values name the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra.errors import MissingConfigException
from hydra.utils import get_object
from omegaconf import OmegaConf, open_dict

from evosweep.errors import ConfigError
from evosweep.settings.build import build_settings

CONF = Path(__file__).resolve().parent.parent / "conf"
GROUPS = ["model", "task", "reward", "algorithm", "eval", "tracking", "schedule",
          "operators/selection", "operators/crossover", "operators/mutation"]
SKIP_BUILD = {("task", "jsonl"), ("reward", "reward_model")}  # need a user file / model
SETTINGS_CLASSES = {"model": "ModelSettings", "task": "TaskSettings", "eval": "EvalSettings",
                    "tracking": "TrackingSettings"}


def _options(group: str) -> list[str]:
    return sorted(path.stem for path in (CONF / group).glob("*.yaml"))


@pytest.mark.parametrize("group,option",
                         [(g, o) for g in GROUPS for o in _options(g)])
def test_every_group_option_composes_and_builds(compose_config, group, option):
    """Each option builds the object its ``_target_`` names, or its group's settings dataclass."""
    cfg = compose_config([f"{group}={option}"])
    if (group, option) in SKIP_BUILD:
        return
    settings = build_settings(cfg)
    part = group.split("/")[-1]
    built = getattr(settings, part)
    node = OmegaConf.select(cfg, group.replace("/", "."))
    if "_target_" in node:
        assert type(built) is get_object(node["_target_"])
    else:
        assert type(built).__name__ == SETTINGS_CLASSES[part]
        for key, value in OmegaConf.to_container(node, resolve=True).items():
            if not isinstance(value, dict):
                assert getattr(built, key) == value, key


@pytest.mark.parametrize("overrides,field", [
    (["algorithm.population_size=0"], "algorithm.population_size"),
    (["algorithm=ga", "algorithm.elite=32"], "algorithm.elite"),
    (["algorithm=ga", "algorithm.elite=9", "algorithm.population_size=4"], "algorithm.elite"),
    (["algorithm=ga", "algorithm.mutation_scale=-1"], "algorithm.mutation_scale"),
    (["eval.batch_size=0"], "eval.batch_size"),
    (["model.lora.r=0"], "model.lora.r"),
    (["operators.crossover.rate=2"], "operators.crossover.rate"),
    (["+model.colour=red"], "model"),
    (["model.dtype=float33"], "model.dtype"),
    (["model.lora.dropout=1.0"], "model.lora.dropout"),
    (["task=jsonl"], "task.train_path"),
    (["tracking.uri="], "tracking.uri"),
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


def test_a_missing_operator_group_names_itself_in_the_message(compose_config):
    cfg = compose_config([])
    with open_dict(cfg):
        del cfg.operators["mutation"]
    with pytest.raises(ConfigError) as error:
        build_settings(cfg)
    assert error.value.field == "operators.mutation"
    assert "add operators/mutation to the defaults list" in str(error.value)
