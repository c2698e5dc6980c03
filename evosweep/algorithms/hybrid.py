"""``algorithm=hybrid``: the GA, with policy-gradient polishing of its elite.

After every ``rl_every``-th generation is bred, a copy of the best elite gets
``rl_steps`` policy-gradient steps (the trainer of ``algorithm=pg``) and
rejoins the population in place of the last child; the elite itself stays,
so a step that hurts can never lose the best adapter found. No RL round runs
after the last generation: its member would never be scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from evosweep.algorithms.evolved import evolved_mask
from evosweep.algorithms.ga import GAConfig, GeneticAlgorithm
from evosweep.algorithms.grpo import (
    PolicyGradientSettings,
    PolicyGradientTrainer,
    as_rl_settings,
    require_text_reward,
)
from evosweep.algorithms.operators.crossover import bind_layout
from evosweep.settings.checks import require_positive


@dataclass
class HybridConfig(GAConfig):
    """``algorithm=hybrid``: the GA's fields plus when and how long to train the elite."""

    name: str = "hybrid"
    # the GA's fields with hybrid.yaml's values (a smaller, shorter GA: RL rounds cost more)
    population_size: int = 8
    generations: int = 12
    mutation_scale: float = 0.02
    rl_every: int = 2
    rl_steps: int = 4
    rl: PolicyGradientSettings = field(default_factory=PolicyGradientSettings)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.rl = as_rl_settings(self.rl)
        require_positive("algorithm.elite", self.elite)
        require_positive("algorithm.rl_every", self.rl_every)
        require_positive("algorithm.rl_steps", self.rl_steps)

    def check_run(self, settings) -> None:
        super().check_run(settings)
        require_text_reward(settings.reward, self.name)

    def build(self, context) -> HybridAlgorithm:
        bind_layout(context.crossover, context.layout)
        mask = evolved_mask(self.evolve, context.layout)  # the RL steps move only what evolves
        return HybridAlgorithm(
            self, context.initial_member, context.selection, context.crossover, context.mutation,
            context.schedule, context.generator, PolicyGradientTrainer(self.rl, context, mask),
            mask=mask,
        )


class HybridAlgorithm(GeneticAlgorithm):
    """The GA; every ``rl_every`` generations the polished elite replaces the last child."""

    def __init__(self, config: HybridConfig, initial_member: torch.Tensor, selection, crossover,
                 mutation, schedule, generator: torch.Generator, trainer: PolicyGradientTrainer,
                 mask: torch.Tensor | None = None) -> None:
        super().__init__(config, initial_member, selection, crossover, mutation, schedule, generator, mask)
        self.trainer = trainer
        self.last_steps: list[dict[str, float]] = []

    def tell(self, fitness: torch.Tensor) -> dict[str, float]:
        metrics = super().tell(fitness)  # population now: elites (best first), then children
        self.last_steps = []
        more_generations = self.generation < self.config.generations
        if more_generations and self.generation % self.config.rl_every == 0:
            self.trainer.load_member(self.population[0])
            self.last_steps = self.trainer.train(self.config.rl_steps)
            self.population[-1] = self.trainer.member().to(self.population.dtype)
        metrics["perf/rl_reward_evals"] = float(len(self.last_steps) * self.trainer.completions_per_step)
        return metrics

    def step_metrics(self) -> list[dict[str, float]]:
        """The RL steps of the last ``tell()`` (empty between RL generations)."""
        return self.last_steps

    def state_dict(self) -> dict:
        return {**super().state_dict(), "trainer": self.trainer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.trainer.load_state_dict(state["trainer"])
