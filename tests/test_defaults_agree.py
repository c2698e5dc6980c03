"""One source of defaults: every value in conf/ equals the default of the field it sets.

Real runs take their values from conf/ (Hydra); tests and scripts that build a config class
directly take the class's defaults. Where both exist they must agree, or a test exercises a
setting no run uses. A field without a default is fine: the YAML always gives it.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from pathlib import Path
from typing import Any

import pytest
from hydra.utils import get_object
from omegaconf import OmegaConf

from evosweep.settings.evaluation import EvalSettings
from evosweep.settings.model import ModelSettings
from evosweep.settings.prompts import PromptSettings
from evosweep.settings.tracking import TrackingSettings

CONF = Path(__file__).resolve().parent.parent / "conf"
TARGET_GROUPS = ["algorithm", "reward", "schedule",
                 "operators/selection", "operators/crossover", "operators/mutation", "operators/text"]
#: groups without a _target_: the default option (conf/config.yaml's defaults) vs its dataclass
PLAIN_GROUPS = {"model": ModelSettings, "eval": EvalSettings, "tracking": TrackingSettings,
                "prompts": PromptSettings}
NO_DEFAULT = object()


def _default(cls: type, name: str) -> Any:
    """The default of ``cls``'s field or parameter ``name`` (NO_DEFAULT when it has none)."""
    if dataclasses.is_dataclass(cls):
        fields = {field.name: field for field in dataclasses.fields(cls)}
        if name not in fields:
            raise KeyError(name)
        field = fields[name]
        if field.default is not dataclasses.MISSING:
            return field.default
        if field.default_factory is not dataclasses.MISSING:
            return field.default_factory()
        return NO_DEFAULT
    parameter = inspect.signature(cls).parameters[name]
    return NO_DEFAULT if parameter.default is inspect.Parameter.empty else parameter.default


def _nested_class(cls: type, name: str) -> type | None:
    """The dataclass type of ``cls``'s field ``name`` (``model.lora``, ``algorithm.rl``), if any."""
    if not dataclasses.is_dataclass(cls):
        return None
    hint = typing.get_type_hints(cls).get(name)
    return hint if dataclasses.is_dataclass(hint) else None


def disagreements(node: dict, cls: type, prefix: str = "") -> list[str]:
    """``key: yaml X, code Y`` for every key of ``node`` whose class default differs."""
    found = []
    for key, value in node.items():
        if key == "_target_":
            continue
        try:
            default = _default(cls, key)
        except KeyError:
            found.append(f"{prefix}{key}: in the YAML, not a field of {cls.__name__}")
            continue
        nested = _nested_class(cls, key)
        if nested is not None and isinstance(value, dict):
            found += disagreements(value, nested, f"{prefix}{key}.")
        elif default is not NO_DEFAULT and default != value:
            found.append(f"{prefix}{key}: yaml {value!r}, code {default!r}")
    return found


def _options(group: str) -> list[str]:
    return sorted(path.stem for path in (CONF / group).glob("*.yaml"))


@pytest.mark.parametrize("group,option", [(g, o) for g in TARGET_GROUPS for o in _options(g)])
def test_every_option_equals_its_class_defaults(compose_config, group, option):
    cfg = compose_config([f"{group}={option}"])
    node = OmegaConf.to_container(OmegaConf.select(cfg, group.replace("/", ".")), resolve=True)
    assert disagreements(node, get_object(node["_target_"])) == []


@pytest.mark.parametrize("group", sorted(PLAIN_GROUPS))
def test_the_default_options_equal_their_settings_defaults(compose_config, group):
    node = OmegaConf.to_container(compose_config([])[group], resolve=True)
    assert disagreements(node, PLAIN_GROUPS[group]) == []


@pytest.mark.parametrize("option", _options("model"))
def test_every_model_file_keeps_the_shared_model_defaults(compose_config, option):
    """What has a default (dtype, lora.dropout, ...) is the same in every model file."""
    node = OmegaConf.to_container(compose_config([f"model={option}"]).model, resolve=True)
    if option.startswith("tiny-"):  # the tiny test models stay float32 on every CPU, not `auto`
        assert node["dtype"] == "float32"
        node["dtype"] = "auto"
    assert disagreements(node, ModelSettings) == []


def test_nested_blocks_are_compared_field_by_field():
    """``model.lora`` (no default of its own) and ``algorithm.rl`` are checked inside."""
    from evosweep.algorithms.pg import PGConfig

    assert disagreements({"lora": {"r": 4, "dropout": 0.5}}, ModelSettings) == [
        "lora.dropout: yaml 0.5, code 0.05"]
    assert disagreements({"rl": {"clip": 0.3}}, PGConfig) == ["rl.clip: yaml 0.3, code 0.2"]
    assert disagreements({"colour": "red"}, PGConfig) == ["colour: in the YAML, not a field of PGConfig"]


def test_the_algorithm_defaults_are_the_real_ones():
    """Tests that build ``ESConfig()`` get what ``algorithm=es`` runs: Adam, lr 0.03, B only."""
    from evosweep.algorithms.es import ESConfig

    config = ESConfig()
    assert (config.optimizer, config.learning_rate, config.evolve) == ("adam", 0.03, "lora_b")
