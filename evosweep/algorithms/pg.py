"""``algorithm=pg``: the policy-gradient trainer alone, as the RL baseline.

The population is the one adapter being trained (``population_size`` 1):
``ask()`` hands it to the run for its train and held-out evaluations, and
``tell()`` takes ``steps_per_generation`` policy-gradient steps. Its sampled
completions count as reward evaluations (``perf/rl_reward_evals``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from evosweep.algorithms.grpo import (
    PolicyGradientSettings,
    PolicyGradientTrainer,
    as_rl_settings,
    require_text_reward,
)
from evosweep.errors import ConfigError
from evosweep.settings.checks import require_positive


@dataclass
class PGConfig:
    """``algorithm=pg``: the fields of ``conf/algorithm/pg.yaml``."""

    name: str = "pg"
    population_size: int = 1
    generations: int = 12
    steps_per_generation: int = 4
    rl: PolicyGradientSettings = field(default_factory=PolicyGradientSettings)

    def __post_init__(self) -> None:
        self.rl = as_rl_settings(self.rl)
        if self.population_size != 1:
            raise ConfigError("algorithm.population_size",
                              f"algorithm=pg trains one adapter: must be 1, got {self.population_size}")
        require_positive("algorithm.generations", self.generations)
        require_positive("algorithm.steps_per_generation", self.steps_per_generation)

    def check_run(self, settings) -> None:
        require_text_reward(settings.reward, self.name)

    def build(self, context) -> PolicyGradientAlgorithm:
        return PolicyGradientAlgorithm(self, PolicyGradientTrainer(self.rl, context), context.generator)


class PolicyGradientAlgorithm:
    """ask() -> the adapter ``(1, D)``; tell() -> ``steps_per_generation`` RL steps."""

    def __init__(self, config: PGConfig, trainer: PolicyGradientTrainer,
                 generator: torch.Generator) -> None:
        self.config = config
        self.trainer = trainer
        self.generator = generator
        self.generation = 0
        self.last_steps: list[dict[str, float]] = []

    def ask(self) -> torch.Tensor:
        return self.trainer.member()[None]

    def tell(self, fitness: torch.Tensor) -> dict[str, float]:
        """Train; the train fitness of the asked adapter is only reported."""
        self.last_steps = self.trainer.train(self.config.steps_per_generation)
        self.generation += 1
        return {"perf/rl_reward_evals": float(len(self.last_steps) * self.trainer.completions_per_step)}

    def step_metrics(self) -> list[dict[str, float]]:
        """The RL steps of the last ``tell()``, one dict each (``rl/step`` is the tracker step)."""
        return self.last_steps

    def best_member(self) -> torch.Tensor:
        """The adapter after the last step, ``(D,)``."""
        return self.trainer.member()

    def state_dict(self) -> dict:
        return {"generation": self.generation, "trainer": self.trainer.state_dict(),
                "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generation = state["generation"]
        self.trainer.load_state_dict(state["trainer"])
        self.generator.set_state(state["generator"])
