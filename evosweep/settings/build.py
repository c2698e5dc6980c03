"""Turn the composed Hydra config into validated settings and objects.

Each config group becomes a dataclass (``__post_init__`` names the bad field)
or, where it has a ``_target_``, the object Hydra instantiates. A mistake
anywhere surfaces as one :class:`ConfigError`, never an instantiate traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from omegaconf import DictConfig, OmegaConf

from evosweep.errors import ConfigError
from evosweep.settings.containers import resolved_dict
from evosweep.settings.evaluation import EvalSettings
from evosweep.settings.instantiate import build
from evosweep.settings.model import ModelSettings
from evosweep.settings.prompts import PromptSettings
from evosweep.settings.task import TaskSettings
from evosweep.settings.tracking import TrackingSettings

if TYPE_CHECKING:  # the types of the built objects; importing them would import torch
    from evosweep.algorithms.operators.crossover import Crossover
    from evosweep.algorithms.operators.mutation import Mutation
    from evosweep.algorithms.operators.selection import Selection
    from evosweep.algorithms.prompt_operators import TextOperators
    from evosweep.algorithms.protocol import AlgorithmConfig
    from evosweep.algorithms.schedules import Schedule
    from evosweep.rewards.protocol import Reward

Plain = TypeVar("Plain")


@dataclass
class RunSettings:
    """Everything a run needs, validated."""

    seed: int
    device: str
    resume: bool
    time_limit_s: float | None
    time_limit_clock: str
    model: ModelSettings
    task: TaskSettings
    eval: EvalSettings
    tracking: TrackingSettings
    algorithm: AlgorithmConfig
    reward: Reward
    selection: Selection
    crossover: Crossover
    mutation: Mutation
    schedule: Schedule
    prompts: PromptSettings
    text_operators: TextOperators | None
    optuna_trial: dict[str, Any] | None
    # the reward's config node, resolved: evaluation workers (eval.workers) build their own
    reward_config: dict[str, Any] | None = None


@runtime_checkable
class ChecksRun(Protocol):
    """An algorithm config with rules across config groups (e.g. RL needs a text reward)."""

    def check_run(self, settings: RunSettings) -> None:
        """Raise :class:`~evosweep.errors.ConfigError` when the other settings do not fit."""


def _plain(group: str, cls: type[Plain], node: DictConfig) -> Plain:
    """A dataclass from a plain config group; unknown keys are named."""
    values = resolved_dict(node)
    try:
        return cls(**values)
    except TypeError as error:
        raise ConfigError(group, f"{error}; check the keys of conf/{group}/") from None


def build_settings(cfg: DictConfig) -> RunSettings:
    """Validate and build every part of the run from the composed config."""
    for group in ("model", "task", "reward", "algorithm", "eval", "tracking", "schedule"):
        if group not in cfg:
            raise ConfigError(group, "missing from the config; add it to the defaults list")
    operators: DictConfig = cfg.get("operators") or OmegaConf.create({})
    for part in ("selection", "crossover", "mutation"):
        if part not in operators:
            raise ConfigError(f"operators.{part}", f"missing; add operators/{part} to the defaults list")
    settings = RunSettings(
        seed=int(cfg.seed),
        device=str(cfg.device),
        resume=bool(cfg.get("resume", False)),
        time_limit_s=_time_limit(cfg.get("time_limit_s")),
        time_limit_clock=_time_limit_clock(cfg.get("time_limit_clock", "wall")),
        model=_plain("model", ModelSettings, cfg.model),
        task=_plain("task", TaskSettings, cfg.task),
        eval=_plain("eval", EvalSettings, cfg.eval),
        tracking=_plain("tracking", TrackingSettings, cfg.tracking),
        algorithm=build("algorithm", cfg.algorithm),
        reward=build("reward", cfg.reward),
        selection=build("operators.selection", operators.selection),
        crossover=build("operators.crossover", operators.crossover),
        mutation=build("operators.mutation", operators.mutation),
        schedule=build("schedule", cfg.schedule),
        prompts=_plain("prompts", PromptSettings, cfg.prompts) if "prompts" in cfg else PromptSettings(),
        text_operators=build("operators.text", operators.text) if "text" in operators else None,
        optuna_trial=resolved_dict(cfg.optuna_trial) if cfg.get("optuna_trial") is not None else None,
        reward_config=resolved_dict(cfg.reward),
    )
    if settings.prompts.evolve and settings.text_operators is None:
        raise ConfigError("operators.text", "prompts=coevolve needs operators/text in the defaults")
    # cross-group rules (tournament vs population, RL needs a text reward, ...)
    if isinstance(settings.algorithm, ChecksRun):
        settings.algorithm.check_run(settings)
    _check_minibatch_groups(settings)
    return settings


def _check_minibatch_groups(settings: RunSettings) -> None:
    """``task.minibatch_groups`` cuts the population into equal groups; ES's mirrors stay together."""
    groups = settings.task.minibatch_groups
    if groups == 1:
        return
    if settings.prompts.evolve:
        raise ConfigError("task.minibatch_groups", "must be 1 with prompts=coevolve")
    size = int(getattr(settings.algorithm, "population_size", 1))
    mirrored = bool(getattr(settings.algorithm, "antithetic", False))
    if size % groups or (mirrored and (size // groups) % 2):
        shape = " of an even size (mirrored perturbations share their pairs)" if mirrored else ""
        raise ConfigError("task.minibatch_groups",
                          f"must cut algorithm.population_size={size} into equal groups{shape}, got {groups}")


def _time_limit(value: Any) -> float | None:
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ConfigError("time_limit_s", f"must be a number of seconds > 0 or null, got {value!r}")
    return float(value)


def _time_limit_clock(value: Any) -> str:
    if value not in ("wall", "cpu"):
        raise ConfigError("time_limit_clock", f"must be 'wall' or 'cpu', got {value!r}")
    return value


def flat_params(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config as ``{"algorithm.elite": 2, ...}`` for MLflow params."""
    container = OmegaConf.to_container(cfg, resolve=True)
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key, child in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), child)
        else:
            flat[prefix] = value

    walk("", container)
    return flat
