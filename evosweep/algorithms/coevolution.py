"""Cooperative co-evolution of prompts with adapters (``prompts=coevolve``).

One generation is one evaluation of ``P + K`` members: the ``P`` adapters the
algorithm asked for, each wrapped in the current best prompt, and the ``K`` prompt
variants, each read by the current best adapter (the evaluator batches members
that share a variant, so each variant's prompt head is prefilled once). The adapters'
scores go to the algorithm, the variants' to the prompt population: each side
is scored with the other side's best (Potter & De Jong's cooperative scheme).
The cost, ``(P + K) x N`` reward evaluations, is logged in ``perf/reward_evals``.
"""

from __future__ import annotations

from typing import Any

import torch

from evosweep.algorithms.prompt_operators import TextOperators, vocabulary_from
from evosweep.algorithms.prompt_population import PromptPopulation
from evosweep.errors import ConfigError
from evosweep.evaluation.evaluator import Evaluation
from evosweep.evaluation.protocol import Evaluator
from evosweep.settings.prompts import PromptSettings
from evosweep.tasks.pairs import Pair

REWRITER = "You rewrite instructions for an assistant. Reply with the new instruction only."
REWRITE_ASK = "Rewrite this instruction so that it is clear and short:\n{text}"


class PromptCoevolution:
    """The prompt side of a run: its population, its joint evaluation, its rewrites."""

    def __init__(self, population: PromptPopulation, evaluator: Evaluator,
                 base_member: torch.Tensor) -> None:
        self.population = population
        self.evaluator = evaluator
        self.base_member = base_member  # (D,): the unchanged adapter rewrites prompts

    @classmethod
    def build(cls, settings: PromptSettings, operators: TextOperators | None, system_prompt: str | None,
              train: list[Pair], evaluator: Evaluator, base_member: torch.Tensor,
              seed: int) -> PromptCoevolution | None:
        """None when ``prompts.evolve`` is false: the run is exactly what it was without prompts."""
        if not settings.evolve:
            return None
        if operators is None:
            raise ConfigError("operators.text", "prompts=coevolve needs operators/text in the defaults")
        seed_prompt = settings.seed_prompt if settings.seed_prompt is not None else (system_prompt or "")
        vocabulary = vocabulary_from([pair.prompt for pair in train] + [seed_prompt])
        population = PromptPopulation(settings, operators, seed_prompt, vocabulary, seed)
        return cls(population, evaluator, base_member)

    @property
    def best(self) -> str:
        """The best prompt so far (the seed prompt before the first generation)."""
        return self.population.best

    def evaluate(self, adapters: torch.Tensor, best_adapter: torch.Tensor,
                 pairs: list[Pair]) -> tuple[Evaluation, dict[str, float]]:
        """Score ``adapters`` ``(P, D)`` with the best prompt and every variant with ``best_adapter``."""
        variants = self.population.variants
        joint = torch.cat([adapters, best_adapter.to(adapters.dtype).expand(len(variants), -1)])
        instructions = [self.best] * adapters.shape[0] + list(variants)
        evaluation = self.evaluator.evaluate(joint, pairs, instructions)  # (P + K, N)
        count = adapters.shape[0]
        completions = evaluation.completions
        metrics = self.population.tell(evaluation.scores[count:].mean(dim=1), self.rewrite)
        metrics["perf/prompt_reward_evals"] = float(len(variants) * len(pairs))
        return Evaluation(evaluation.scores[:count], completions[:count] if completions else None), metrics

    def rewrite(self, text: str) -> str:
        """The base model's own rephrasing of ``text`` (first line, quotes stripped)."""
        answer = self.evaluator.greedy_answers(self.base_member, [Pair(REWRITE_ASK.format(text=text), "")],
                                               REWRITER)[0]
        lines = [line.strip().strip('"').strip() for line in answer.splitlines() if line.strip()]
        return lines[0] if lines else text

    def state_dict(self) -> dict[str, Any]:
        return self.population.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.population.load_state_dict(state)
