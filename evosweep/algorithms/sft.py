"""``algorithm=sft``: supervised LoRA tuning on the train references, the gradient ceiling.

The same flat ``(D,)`` adapter and layout as every other algorithm, trained with
Adam on the mean token negative log-likelihood of each train reference (plus the
end-of-sequence token) given its prompt, formatted exactly as the evaluator
formats it. ``ask()`` hands the adapter to the run for its train and held-out
evaluations, so sft's curves share every metric name with the evolutionary ones;
``tell()`` takes ``steps_per_generation`` steps. Cost is logged as
``perf/train_tokens`` (reference tokens through forward+backward) and wall time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from evosweep.algorithms.flat_trainer import FlatAdamTrainer
from evosweep.errors import ConfigError
from evosweep.evaluation.logprobs import next_token_logprobs
from evosweep.evaluation.prompts import encode_targets
from evosweep.settings.checks import require_non_negative, require_positive
from evosweep.tasks.epoch_sampler import EpochSampler


@dataclass
class SFTConfig:
    """``algorithm=sft``: the fields of ``conf/algorithm/sft.yaml``."""

    name: str = "sft"
    population_size: int = 1
    generations: int = 12
    steps_per_generation: int = 1
    learning_rate: float = 3e-4
    # train pairs per step, drawn without replacement each epoch (null = all of them)
    batch_size: int | None = None
    append_eos: bool = True
    max_grad_norm: float = 1.0

    def __post_init__(self) -> None:
        if self.population_size != 1:
            raise ConfigError("algorithm.population_size",
                              f"algorithm=sft trains one adapter: must be 1, got {self.population_size}")
        require_positive("algorithm.generations", self.generations)
        require_positive("algorithm.steps_per_generation", self.steps_per_generation)
        require_positive("algorithm.learning_rate", self.learning_rate)
        require_non_negative("algorithm.max_grad_norm", self.max_grad_norm)
        if self.batch_size is not None:
            require_positive("algorithm.batch_size", self.batch_size)

    def build(self, context) -> SupervisedFineTuning:
        return SupervisedFineTuning(self, context)


class SupervisedFineTuning(FlatAdamTrainer):
    """ask() -> the adapter ``(1, D)``; tell() -> ``steps_per_generation`` Adam steps."""

    def __init__(self, config: SFTConfig, context) -> None:
        self.config = config
        self.loaded = context.loaded
        self.lora = context.lora
        self.pairs = context.train_pairs
        self.generator = context.generator
        super().__init__(context.initial_member, next(self.loaded.model.parameters()).device,
                         config.learning_rate, config.max_grad_norm)
        self.generation = 0
        self.sampler = EpochSampler(len(self.pairs), self.generator)  # the algorithm's stream

    def ask(self) -> torch.Tensor:
        return self.member()[None]

    def _batch(self) -> list:
        size = min(self.config.batch_size or len(self.pairs), len(self.pairs))
        return [self.pairs[index] for index in self.sampler.draw(size)]

    def step(self) -> tuple[float, int]:
        """One Adam step on a batch; returns (loss, reference tokens trained on)."""
        device = self.policy.device
        encoded = encode_targets(self.loaded, self._batch(), self.config.append_eos, device)
        predicts = encoded["targets"][:, 1:]  # (B, T-1): position t predicts token t+1
        with self.lora.members(self.policy[None], train=True):  # model.lora.dropout applies
            picked = next_token_logprobs(self.loaded.model, encoded["input_ids"],
                                         encoded["attention_mask"], predicts)  # (K,)
        per_row = torch.zeros(predicts.shape, device=device).masked_scatter(predicts, picked)
        loss = -(per_row.sum(dim=1) / predicts.sum(dim=1).clamp(min=1)).mean()
        self.update(loss)
        return float(loss.detach()), int(predicts.sum())

    def tell(self, fitness: torch.Tensor) -> dict[str, float]:
        """Train; the asked adapter's train fitness is only reported."""
        losses, tokens = zip(*(self.step() for _ in range(self.config.steps_per_generation)), strict=True)
        self.generation += 1
        return {"sft/loss": sum(losses) / len(losses), "perf/train_tokens": float(sum(tokens))}

    def best_member(self) -> torch.Tensor:
        """The adapter after the last step, ``(D,)``."""
        return self.member()

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "generation": self.generation, **self.sampler.state_dict(),
                "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.generation = state["generation"]
        self.sampler.load_state_dict(state)
        self.generator.set_state(state["generator"])
