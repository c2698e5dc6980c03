"""Structured config of the evosweep Optuna sweeper (``hydra/sweeper=evosweep_optuna``).

The field names follow the official ``hydra-optuna-sweeper`` so that switching is the
one line ``- override hydra/sweeper: evosweep_optuna``; ``pruner`` and the heartbeat
fields are ours.
"""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from .factories import SAMPLERS


@dataclass
class EvosweepOptunaSweeperConf:
    """``hydra.sweeper`` node; every field is validated before the first trial runs."""

    # The sampler comes from the group hydra/sweeper/sampler (default tpe), as in the
    # official plugin: `override hydra/sweeper/sampler: random`, `hydra.sweeper.sampler.seed=1`.
    defaults: list[Any] = field(default_factory=lambda: [{"sampler": "tpe"}])
    _target_: str = "hydra_plugins.evosweep_optuna_sweeper.sweeper.EvosweepOptunaSweeper"
    # The sweeper builds sampler and pruner itself (errors then name the field).
    _recursive_: bool = False
    # Or set it here: a name (tpe, random, cmaes, gp, qmc, nsgaii, nsgaiii, grid, bruteforce),
    # {name: tpe, seed: 1, ...} or {_target_: optuna.samplers.TPESampler, seed: 1, ...}.
    sampler: Any = MISSING
    # "minimize" / "maximize", or a list of them when the job returns a list of values.
    direction: Any = "minimize"
    # Any Optuna storage URL; null -> sqlite:///outputs/optuna.db under the launch folder.
    storage: Any = None
    # null -> the experiment's name (experiment=..., else tracking.experiment, else the job).
    study_name: Any = None
    # Finished trials (COMPLETE or PRUNED) the study must hold when the sweep ends;
    # rerunning the same command continues the study up to this count.
    n_trials: int = 20
    # Trials in flight at once: each worker asks for a new trial as soon as its own ends.
    n_jobs: int = 1
    # Stop the sweep once failed trials exceed this fraction of n_trials (0: first failure).
    max_failure_rate: float = 0.0
    # Search space, in Hydra's override grammar: interval(a, b), tag(log, interval(a, b)),
    # int(interval(a, b)), range(a, b, step=s), choice(...), shuffle(range(...)), plain values.
    params: Any = None
    # Dotted path of `fn(cfg, trial) -> None` that suggests more parameters.
    custom_search_space: Any = None
    # null (no pruning), a name (median, percentile, hyperband, successive_halving,
    # threshold, patient, wilcoxon, nop), {name: median, n_startup_trials: 5, ...}
    # or a mapping with `_target_` and the pruner's arguments.
    pruner: Any = None
    # Seconds between the heartbeats of running trials (RDB storages); a trial whose sweep
    # died is marked FAIL after grace_period (null: 2 x heartbeat_interval) and rerun.
    heartbeat_interval: int = 10
    grace_period: Any = None


for _name, _target in SAMPLERS.items():
    ConfigStore.instance().store(
        group="hydra/sweeper/sampler",
        name=_name,
        node={"_target_": _target, "seed": None},
        provider="evosweep",
    )

ConfigStore.instance().store(
    group="hydra/sweeper",
    name="evosweep_optuna",
    node=EvosweepOptunaSweeperConf,
    provider="evosweep",
)
