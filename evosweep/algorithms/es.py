"""OpenAI-style evolution strategies (Salimans et al. 2017; Qiu et al. 2025) on the LoRA vector.

Each generation samples ``P`` perturbations ``theta + sigma * eps_i`` of one
center ``theta``, scores them, and moves ``theta`` along the estimate
``g = 1 / (P * sigma) * sum_i w_i * eps_i`` where ``w`` is the shaped fitness.
Only the seeds of the ``eps_i`` are stored; each ``eps_i`` is regenerated
from its seed in ``ask()`` and again in ``tell()``, so no ``(P, D)`` noise
matrix outlives a call. With ``antithetic`` noise rows ``2j`` and ``2j + 1``
are ``theta +/- sigma * eps_j``. ``best_member()`` is the center ``theta``:
the adapter ES is optimising, and the one the held-out reward is measured on.

With per-entry noise factors ``s`` (``algorithm.noise_scale``, see
:mod:`evosweep.algorithms.noise_scale`) ES runs in the coordinates ``u = theta / s``:
members are ``s * (u +/- sigma * eps)`` and the optimizer steps ``u``, so both the
noise and the step of each module scale with its factor.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch

from evosweep.algorithms.context import AlgorithmContext
from evosweep.algorithms.evolved import check_evolve, evolved_mask, restrict
from evosweep.algorithms.noise_scale import check_noise_scale, module_output_scales
from evosweep.algorithms.schedules import Schedule
from evosweep.algorithms.shaping import SHAPINGS, failed_last, shape_fitness, shape_per_prompt_in_groups
from evosweep.errors import ConfigError
from evosweep.seeds import draw_seeds
from evosweep.settings.checks import require_choice, require_non_negative, require_positive

OPTIMIZERS = ("sgd", "adam")


@dataclass
class ESConfig:
    """``algorithm=es``: the fields of ``conf/algorithm/es.yaml``, defaults equal to it."""

    name: str = "es"
    population_size: int = 64
    generations: int = 24
    sigma: float = 0.03
    learning_rate: float = 0.03
    antithetic: bool = True
    fitness_shaping: str = "centered_rank"
    optimizer: str = "adam"
    weight_decay: float = 0.0
    evolve: str = "lora_b"
    normalise_per_prompt: bool = False
    learning_rate_follows_schedule: bool = False
    noise_scale: str = "uniform"

    def __post_init__(self) -> None:
        check_evolve(self.evolve)
        check_noise_scale(self.noise_scale)
        require_positive("algorithm.population_size", self.population_size)
        require_positive("algorithm.generations", self.generations)
        require_positive("algorithm.sigma", self.sigma)
        require_positive("algorithm.learning_rate", self.learning_rate)
        require_non_negative("algorithm.weight_decay", self.weight_decay)
        require_choice("algorithm.fitness_shaping", self.fitness_shaping, SHAPINGS)
        require_choice("algorithm.optimizer", self.optimizer, OPTIMIZERS)
        if self.antithetic and self.population_size % 2:
            raise ConfigError(
                "algorithm.population_size",
                f"must be even with algorithm.antithetic=true (mirrored pairs), got {self.population_size}",
            )
        if self.population_size < 2:
            raise ConfigError("algorithm.population_size", "ES needs at least 2 members to rank")

    def build(self, context: AlgorithmContext) -> EvolutionStrategy:
        """The ES around the run's initial adapter; ``context.schedule`` drives sigma."""
        mask = evolved_mask(self.evolve, context.layout)
        scales = None
        if self.noise_scale == "module_output":
            loaded, lora = context.model("algorithm.noise_scale=module_output")
            scales = module_output_scales(loaded, lora, context.initial_member, context.train_pairs, mask)
        return EvolutionStrategy(self, context.initial_member, context.schedule, context.generator,
                                 mask, scales)


def seeded_noise(seed: int, dim: int) -> torch.Tensor:
    """The perturbation direction of one seed, ``(D,)`` standard normal."""
    return torch.randn(dim, generator=torch.Generator().manual_seed(int(seed)))


class EvolutionStrategy:
    """ask() -> perturbations of the center ``(P, D)``; tell(fitness) steps the center."""

    def __init__(self, config: ESConfig, initial_member: torch.Tensor, schedule: Schedule,
                 generator: torch.Generator, mask: torch.Tensor | None = None,
                 scales: torch.Tensor | None = None) -> None:
        self.config = config
        self.mask = mask  # (D,) entries that evolve (algorithm.evolve), None = all
        # (D,) per-entry noise factors (algorithm.noise_scale), 1 = uniform
        self.scales = torch.ones(initial_member.numel()) if scales is None else scales.float()
        self.schedule = schedule
        self.generator = generator
        self.generation = 0
        self.previous_best = float("-inf")
        # (D,) u = theta / scales: the coordinates the optimizer steps
        self.center = torch.nn.Parameter(initial_member.clone().float() / self.scales)
        optimizer = torch.optim.Adam if config.optimizer == "adam" else torch.optim.SGD
        self.optimizer = optimizer([self.center], lr=config.learning_rate,
                                   weight_decay=config.weight_decay, maximize=True)
        self.seeds = self._draw_seeds()

    @property
    def directions(self) -> int:
        """How many noise vectors a generation uses (P/2 when mirrored)."""
        return self.config.population_size // 2 if self.config.antithetic else self.config.population_size

    def _draw_seeds(self) -> torch.Tensor:
        return draw_seeds(self.directions, self.generator)  # (K,)

    def sigma(self) -> float:
        """This generation's perturbation scale (``algorithm.sigma`` x schedule)."""
        return self.config.sigma * self.schedule.factor(self.generation, self.config.generations)

    def ask(self) -> torch.Tensor:
        """The perturbed members, ``(P, D)``."""
        center = self.best_member()
        sigma = self.sigma()
        rows = []
        for seed in self.seeds.tolist():
            step = sigma * self.scales * restrict(seeded_noise(seed, center.numel()), self.mask)  # (D,)
            rows.extend([center + step, center - step] if self.config.antithetic else [center + step])
        return torch.stack(rows)

    def learning_rate(self) -> float:
        """This generation's step size: ``algorithm.learning_rate``, times the schedule's factor
        when ``algorithm.learning_rate_follows_schedule`` (the step shrinks with sigma)."""
        if not self.config.learning_rate_follows_schedule:
            return self.config.learning_rate
        return self.config.learning_rate * self.schedule.factor(self.generation, self.config.generations)

    def tell_scores(self, scores: torch.Tensor, groups: int = 1) -> dict[str, float]:
        """Step from each member's score per prompt ``(P, N)``: normalised prompt by prompt
        when ``algorithm.normalise_per_prompt`` (within each of ``groups`` contiguous member
        groups, which answered different prompts), else their mean, as :meth:`tell`."""
        fitness = scores.mean(dim=1)  # (P,)
        if not self.config.normalise_per_prompt:
            return self.tell(fitness)
        return self._step(fitness, shape_per_prompt_in_groups(scores, self.config.fitness_shaping, groups))

    def tell(self, fitness: torch.Tensor) -> dict[str, float]:
        """Step the center along the shaped-fitness gradient estimate; draw new seeds."""
        return self._step(fitness, shape_fitness(fitness, self.config.fitness_shaping))

    def _step(self, fitness: torch.Tensor, weights: torch.Tensor) -> dict[str, float]:
        """One ES update from the members' fitness ``(P,)`` and shaped weights ``(P,)``."""
        sigma = self.sigma()
        if self.config.antithetic:
            weights = weights[0::2] - weights[1::2]  # (K,): +eps and -eps rows of one seed
        gradient = torch.zeros_like(self.center)  # (D,)
        for seed, weight in zip(self.seeds.tolist(), weights.tolist(), strict=True):
            gradient.add_(restrict(seeded_noise(seed, gradient.numel()), self.mask), alpha=weight)
        gradient /= self.config.population_size * sigma
        before = self.best_member()
        learning_rate = self.learning_rate()
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate
        self.center.grad = gradient
        self.optimizer.step()
        self.center.grad = None
        scores = failed_last(fitness)
        success = float((scores > self.previous_best).float().mean()) if self.generation else 0.0
        if self.generation:
            self.schedule.observe(success)
        self.previous_best = max(self.previous_best, float(scores.max()))
        self.generation += 1
        self.seeds = self._draw_seeds()
        return {
            "schedule/sigma": sigma,
            "schedule/learning_rate": learning_rate,
            "es/grad_norm": float(gradient.norm()),
            "es/step_norm": float((self.best_member() - before).norm()),
            "es/success_rate": success,
        }

    def step_metrics(self) -> list[dict[str, float]]:
        """No inner steps: every metric comes from :meth:`tell`."""
        return []

    def best_member(self) -> torch.Tensor:
        """The center ``theta``, ``(D,)``: ES's current solution."""
        return self.center.detach() * self.scales

    def state_dict(self) -> dict[str, Any]:
        return {
            "center": self.best_member(),
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),
            "seeds": self.seeds.clone(),
            "generation": self.generation,
            "previous_best": self.previous_best,
            "generator": self.generator.get_state(),
            "schedule": self.schedule.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with torch.no_grad():
            self.center.copy_(state["center"] / self.scales)
        self.optimizer.load_state_dict(state["optimizer"])
        self.seeds = state["seeds"].clone()
        self.generation = state["generation"]
        self.previous_best = state["previous_best"]
        self.generator.set_state(state["generator"])
        self.schedule.load_state_dict(state["schedule"])
