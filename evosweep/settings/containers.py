"""A config node as plain Python: what dataclasses and MLflow params are built from."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf


def resolved_dict(node: DictConfig | ListConfig) -> dict[str, Any]:
    """``node``'s interpolations resolved, as a ``dict`` of plain values (dicts, lists, scalars);
    a list node is a TypeError."""
    container = OmegaConf.to_container(node, resolve=True)
    if not isinstance(container, dict):
        raise TypeError(f"expected a mapping config node, got {type(container).__name__}")
    return {str(key): value for key, value in container.items()}
