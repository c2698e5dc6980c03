"""A small GA over prompt variants (strings): elites kept, children crossed, edited, rewritten."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import torch

from evosweep.algorithms.prompt_operators import TextOperators
from evosweep.algorithms.shaping import failed_last
from evosweep.settings.prompts import PromptSettings


class PromptPopulation:
    """``variants``: the prompts to score this generation; ``best``: the best scored so far."""

    def __init__(self, settings: PromptSettings, operators: TextOperators, seed_prompt: str,
                 vocabulary: list[str], seed: int) -> None:
        self.settings = settings
        self.operators = operators
        self.vocabulary = vocabulary
        self.rng = random.Random(seed)
        self.best = seed_prompt
        self.best_fitness = -math.inf
        self.generation = 0
        # variant 0 is the seed prompt itself, the rest one edit away from it
        self.variants = [seed_prompt] + [operators.mutate(seed_prompt, self.rng, vocabulary)
                                         for _ in range(settings.population_size - 1)]

    def tell(self, fitness: torch.Tensor, rewrite: Callable[[str], str] | None = None) -> dict[str, float]:
        """Record the variants' fitness ``(K,)``, keep the elites, breed the rest."""
        scores = failed_last(fitness)
        order = torch.argsort(scores, descending=True, stable=True).tolist()
        self.best, self.best_fitness = self.variants[order[0]], float(scores[order[0]])
        ranked = [self.variants[index] for index in order]
        parents = ranked[: max(2, len(ranked) // 2)]  # the better half breeds
        children, rewrites = [], 0
        for _ in range(self.settings.population_size - self.settings.elite):
            child = self.rng.choice(parents)
            if self.rng.random() < self.operators.crossover_rate:
                child = self.operators.cross(child, self.rng.choice(parents), self.rng)
            child = self.operators.mutate(child, self.rng, self.vocabulary)
            if rewrite is not None and self.rng.random() < self.operators.rewrite_rate:
                child, rewrites = rewrite(child) or child, rewrites + 1
            children.append(child)
        self.variants = ranked[: self.settings.elite] + children
        self.generation += 1
        return {"prompts/best": self.best_fitness, "prompts/mean": float(fitness.nanmean()),
                "prompts/best_words": float(len(self.best.split())), "prompts/rewrites": float(rewrites)}

    def state_dict(self) -> dict:
        return {"variants": list(self.variants), "best": self.best, "best_fitness": self.best_fitness,
                "generation": self.generation, "rng": self.rng.getstate()}

    def load_state_dict(self, state: dict) -> None:
        self.variants, self.best = list(state["variants"]), state["best"]
        self.best_fitness, self.generation = state["best_fitness"], state["generation"]
        self.rng.setstate(state["rng"])
