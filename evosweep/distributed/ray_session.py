"""Join a Ray cluster or start a local one, with the settings Ray rejects when joining caught early.

Ray refuses resource settings (``num_cpus``, ``object_store_memory``, ...) when it joins
an existing cluster; hydra-ray-launcher 1.2.2 even sets ``object_store_memory`` by
default, which breaks ``address=auto``. Here nulls are dropped, and a resource setting
given together with an address is one :class:`~evosweep.errors.ConfigError`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from evosweep.errors import ConfigError

log = logging.getLogger(__name__)

# ray.init arguments that only describe a Ray started by this process
LOCAL_ONLY = ("num_cpus", "num_gpus", "resources", "labels", "object_store_memory", "_system_config")
_lock = threading.Lock()


def joins_cluster(settings: Mapping[str, Any]) -> str | None:
    """The address of the cluster ``settings`` join (``address`` or ``$RAY_ADDRESS``), else None."""
    address = settings.get("address") or os.environ.get("RAY_ADDRESS")
    return None if address in (None, "", "local") else str(address)


def init_arguments(settings: Mapping[str, Any], field: str) -> dict[str, Any]:
    """``ray.init`` keyword arguments from ``settings`` (the config node at ``field``)."""
    kwargs = {key: value for key, value in settings.items() if value is not None}
    address = joins_cluster(kwargs)
    if address is not None:
        given = [key for key in LOCAL_ONLY if key in kwargs]
        if given:
            raise ConfigError(f"{field}.{given[0]}", f"sizes a Ray started here, but address={address} "
                              "joins a running cluster, which keeps its own resources: set it to null")
    kwargs.setdefault("include_dashboard", False)
    return kwargs


def ensure_ray(settings: Mapping[str, Any] | None = None, field: str = "ray",
               address_field: str | None = None) -> None:
    """Connect this process to Ray once: the cluster at ``address``, else a new local Ray.

    ``field``: where ``settings`` come from, for error messages (``address_field``: where
    the address comes from, when not ``field.address``).
    """
    import ray

    with _lock:
        if ray.is_initialized():
            return
        kwargs = init_arguments(settings or {}, field)
        log.info("ray.init(%s)", kwargs)
        try:
            ray.init(**kwargs)
        except ConnectionError as error:
            raise ConfigError(address_field or f"{field}.address", f"{error}; start one with "
                              "`ray start --head`, or set the address to null for a local Ray") from None
