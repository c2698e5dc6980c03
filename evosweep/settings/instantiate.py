"""Instantiate a ``_target_`` config node; a failure is one ``ConfigError`` naming its group."""

from __future__ import annotations

from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig

from evosweep.errors import ConfigError, EvosweepError


def _root_cause(error: BaseException) -> BaseException:
    while isinstance(error, InstantiationException) and error.__cause__ is not None:
        error = error.__cause__
    return error


def build(group: str, node: DictConfig | dict[str, Any]) -> Any:
    """Instantiate ``node`` (a ``_target_`` config); errors name the group."""
    try:
        return instantiate(node, _convert_="all")
    except InstantiationException as error:
        cause = _root_cause(error)
        if isinstance(cause, EvosweepError):
            raise cause from None
        if isinstance(cause, TypeError):
            raise ConfigError(group, f"{cause}") from None
        raise ConfigError(group, f"could not be built: {cause}") from None
