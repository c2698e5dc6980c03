"""A ``conf/model`` entry (or a yaml file) as :class:`ModelSettings`, outside a Hydra run."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from evosweep.settings.conf_dir import CONF_DIR
from evosweep.settings.containers import resolved_dict
from evosweep.settings.model import ModelSettings

MODEL_CONF = CONF_DIR / "model"


def model_settings(name: str) -> ModelSettings:
    """``smollm2-135m`` (a conf/model name) or ``path/to/model.yaml`` -> its settings."""
    path = Path(name) if name.endswith(".yaml") else MODEL_CONF / f"{name}.yaml"
    if not path.is_file():
        choices = ", ".join(sorted(p.stem for p in MODEL_CONF.glob("*.yaml")))
        raise SystemExit(f"no model config {path}; choose one of {choices}")
    return ModelSettings(**resolved_dict(OmegaConf.load(path)))
