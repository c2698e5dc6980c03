"""The original design's genetic algorithm: elitism, crossover of selected parents,
Gaussian mutation, on a population held as one ``(P, D)`` tensor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from evosweep.algorithms.context import AlgorithmContext
from evosweep.algorithms.evolved import check_evolve, evolved_mask, restrict
from evosweep.algorithms.operators.crossover import Crossover, bind_layout
from evosweep.algorithms.operators.mutation import Mutation
from evosweep.algorithms.operators.selection import Selection
from evosweep.algorithms.schedules import Schedule
from evosweep.algorithms.shaping import failed_last
from evosweep.errors import ConfigError
from evosweep.settings.checks import require_non_negative, require_positive

if TYPE_CHECKING:
    from evosweep.settings.build import RunSettings


@dataclass
class GAConfig:
    """``algorithm=ga``: the fields of ``conf/algorithm/ga.yaml``, defaults equal to it."""

    name: str = "ga"
    population_size: int = 32
    generations: int = 20
    elite: int = 2
    mutation_scale: float = 0.03
    evolve: str = "all"

    def __post_init__(self) -> None:
        check_evolve(self.evolve)
        require_positive("algorithm.population_size", self.population_size)
        require_positive("algorithm.generations", self.generations)
        require_non_negative("algorithm.elite", self.elite)
        require_non_negative("algorithm.mutation_scale", self.mutation_scale)
        if self.elite >= self.population_size:
            raise ConfigError(
                "algorithm.elite",
                f"must be < algorithm.population_size ({self.elite} >= {self.population_size}): "
                "the population needs room for at least one child",
            )

    def check_run(self, settings: RunSettings) -> None:
        """Cross-group checks against the other parts of the run."""
        settings.selection.check_population(self.population_size)

    def build(self, context: AlgorithmContext) -> GeneticAlgorithm:
        """The GA with the run's operators."""
        bind_layout(context.crossover, context.layout)
        return GeneticAlgorithm(
            self, context.initial_member, context.selection, context.crossover,
            context.mutation, context.schedule, context.generator,
            mask=evolved_mask(self.evolve, context.layout),
        )


class GeneticAlgorithm:
    """ask() returns the population to evaluate; tell(fitness) breeds the next one."""

    def __init__(
        self,
        config: GAConfig,
        initial_member: torch.Tensor,
        selection: Selection,
        crossover: Crossover,
        mutation: Mutation,
        schedule: Schedule,
        generator: torch.Generator,
        mask: torch.Tensor | None = None,
    ) -> None:
        self.config = config
        self.mask = mask  # (D,) entries that evolve (algorithm.evolve), None = all
        self.selection = selection
        self.crossover = crossover
        self.mutation = mutation
        self.schedule = schedule
        self.generator = generator
        self.generation = 0
        self.best_fitness = float("-inf")
        self.best = initial_member.clone()
        # member 0 is the unchanged initial adapter (the base model's behaviour)
        others = initial_member.expand(config.population_size - 1, -1)
        self.scale = self.mutation_scale(0)  # the scale that bred the current population
        self.population = torch.cat(  # (P, D)
            [initial_member.unsqueeze(0), self.mutate(others)]
        )

    def mutate(self, members: torch.Tensor) -> torch.Tensor:
        """The mutation operator at the current scale, on the entries that evolve only."""
        mutated = self.mutation(members, self.scale, self.generator)
        return members + restrict(mutated - members, self.mask)

    def mutation_scale(self, generation: int) -> float:
        """The scale for breeding ``generation`` (``algorithm.mutation_scale`` x schedule)."""
        factor = self.schedule.factor(generation, self.config.generations)
        return self.config.mutation_scale * factor

    def ask(self) -> torch.Tensor:
        """The current population, ``(P, D)``."""
        return self.population

    def tell(self, fitness: torch.Tensor) -> dict[str, float]:
        """Record fitness of the asked population, then breed the next generation."""
        scores = failed_last(fitness)
        order = torch.argsort(scores, descending=True, stable=True)
        previous_best = self.best_fitness
        # the best is this generation's top: elites are re-scored every generation, so with
        # fixed train pairs it never gets worse, and with fresh minibatches it stays current
        self.best_fitness = float(scores[order[0]])
        self.best = self.population[order[0]].clone()
        # success: share of last generation's children (rows after the elites) that beat
        # the best seen before them; the schedule adapts before breeding the next ones
        success = 0.0
        if self.generation:  # generation 0 holds mutants of the initial adapter, not children
            success = float((scores[self.config.elite:] > previous_best).float().mean())
            self.schedule.observe(success)
        # log the scale that bred the generation just scored; breed the next with its own
        bred_with, self.scale = self.scale, self.mutation_scale(self.generation + 1)
        children_count = self.config.population_size - self.config.elite
        parents = self.selection(fitness, 2 * children_count, self.generator)
        first, second = parents[:children_count], parents[children_count:]
        children = self.crossover(self.population[first], self.population[second], self.generator)
        children = self.mutate(children)
        elites = self.population[order[: self.config.elite]]
        self.population = torch.cat([elites, children])
        self.generation += 1
        return {"schedule/mutation_scale": bred_with, "ga/success_rate": success}

    def step_metrics(self) -> list[dict[str, float]]:
        """No inner steps: every metric comes from :meth:`tell`."""
        return []

    def best_member(self) -> torch.Tensor:
        """The best member found so far, ``(D,)``."""
        return self.best

    def state_dict(self) -> dict[str, Any]:
        return {
            "population": self.population.clone(),
            "generation": self.generation,
            "best": self.best.clone(),
            "best_fitness": self.best_fitness,
            "generator": self.generator.get_state(),
            "schedule": self.schedule.state_dict(),
            "scale": self.scale,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.population = state["population"].clone()
        self.generation = state["generation"]
        self.best = state["best"].clone()
        self.best_fitness = state["best_fitness"]
        self.generator.set_state(state["generator"])
        self.schedule.load_state_dict(state["schedule"])
        self.scale = state.get("scale", self.mutation_scale(self.generation))

