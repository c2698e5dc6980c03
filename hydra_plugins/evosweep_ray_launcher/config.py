"""``hydra/launcher=ray``: evosweep's Ray launcher replaces hydra-ray-launcher's config of that name.

The nodes are the same as hydra-ray-launcher's (``ray.init``: ``ray.init`` arguments,
``ray.remote``: each job's task options), with defaults that work on a shared machine
and on an existing cluster. Stored after the stock node (imported first), so this one wins
whatever order Hydra scans plugins in; ``ray_aws`` stays hydra-ray-launcher's.
"""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore

try:  # registers the stock `ray` node now, so that ours below replaces it
    import hydra_plugins.hydra_ray_launcher._config  # noqa: F401
except ImportError:  # hydra-ray-launcher not installed: only ours exists
    pass


def _init_defaults() -> dict[str, Any]:
    return {
        # null: a local Ray started and stopped by the sweep (or $RAY_ADDRESS when set);
        # auto: the cluster `ray start --head` runs on this machine; ray://host:10001 otherwise
        "address": None,
        # these three size a Ray started here; leave them null when joining a cluster
        "num_cpus": None,
        "num_gpus": None,
        # bytes; null lets Ray choose (hydra-ray-launcher's 75 MiB default breaks address=auto)
        "object_store_memory": None,
        "include_dashboard": False,
    }


def _remote_defaults() -> dict[str, Any]:
    return {
        # what one job (trial) reserves on the cluster
        "num_cpus": 1,
        "num_gpus": 0,
        # reruns of a job whose worker died (node lost, out of memory); a rerun continues the
        # run's checkpoint. 0: the trial ends FAIL at once
        "max_retries": 0,
    }


@dataclass
class RayNodes:
    """``hydra.launcher.ray``: any ``ray.init`` / ``ray.remote`` argument may be added (``+key=``)."""

    init: dict[str, Any] = field(default_factory=_init_defaults)
    remote: dict[str, Any] = field(default_factory=_remote_defaults)


@dataclass
class EvosweepRayLauncherConf:
    """``hydra.launcher`` for ``hydra/launcher=ray``."""

    _target_: str = "hydra_plugins.evosweep_ray_launcher.launcher.EvosweepRayLauncher"
    ray: RayNodes = field(default_factory=RayNodes)


ConfigStore.instance().store(group="hydra/launcher", name="ray", node=EvosweepRayLauncherConf,
                             provider="evosweep")
