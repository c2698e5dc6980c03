"""Group-relative policy gradient (GRPO-style) on one LoRA adapter, with real autograd.

One step: draw ``prompts_per_step`` train prompts, sample ``group_size``
completions of each from the current adapter, score them with the run's
(text) reward, turn rewards into group-relative advantages
``(r - mean_group) / std_group``, and take ``epochs`` Adam steps on the
PPO-clipped surrogate plus ``kl_coef`` times the KL to the frozen base model
(the k3 estimator, base log-probs from the model with the adapter disabled).
The adapter is the flat ``(D,)`` LoRA vector, passed through
``BatchedLora.members`` so gradients reach it through the frozen model.

Sampling, the "old" log-probs and the "new" ones all run without
``model.lora.dropout`` (as TRL's GRPO disables dropout): with dropout on, the
PPO ratio of a second epoch would compare two different dropout masks, not two
policies. A ``mask`` limits the step to the entries that may move (the hybrid's
``algorithm.evolve=lora_b``): their gradient is zeroed, so Adam never moves them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from evosweep.algorithms.flat_trainer import FlatAdamTrainer
from evosweep.algorithms.rollouts import Rollout, completion_logprobs, sample_rollout
from evosweep.algorithms.shaping import failed_as_lowest
from evosweep.errors import ConfigError
from evosweep.settings.checks import require_non_negative, require_positive


@dataclass
class PolicyGradientSettings:
    """``algorithm.rl.*``: the policy-gradient trainer of ``algorithm=pg`` and ``algorithm=hybrid``."""

    learning_rate: float = 2e-3
    group_size: int = 4
    prompts_per_step: int = 4
    epochs: int = 2
    clip: float = 0.2
    kl_coef: float = 0.04
    max_grad_norm: float = 1.0

    def __post_init__(self) -> None:
        require_positive("algorithm.rl.learning_rate", self.learning_rate)
        require_positive("algorithm.rl.prompts_per_step", self.prompts_per_step)
        require_positive("algorithm.rl.epochs", self.epochs)
        require_positive("algorithm.rl.clip", self.clip)
        require_non_negative("algorithm.rl.kl_coef", self.kl_coef)
        require_non_negative("algorithm.rl.max_grad_norm", self.max_grad_norm)
        if self.group_size < 2:
            raise ConfigError("algorithm.rl.group_size",
                              f"must be >= 2 (advantages are relative to the group), got {self.group_size}")


def as_rl_settings(rl: PolicyGradientSettings | dict) -> PolicyGradientSettings:
    """``algorithm.rl`` as settings: the dict Hydra passes (conf/algorithm/rl/default.yaml), or as is."""
    return PolicyGradientSettings(**rl) if isinstance(rl, dict) else rl


def require_text_reward(reward, algorithm: str) -> None:
    """Policy gradient scores sampled text: a teacher-forced reward cannot."""
    if getattr(reward, "teacher_forced", False):
        raise ConfigError(
            "reward",
            f"algorithm={algorithm} samples completions and scores their text, but "
            f"{type(reward).__name__} scores the reference by teacher forcing and cannot score a "
            "sample; choose a text reward (e.g. reward=chrf)",
        )


def group_advantages(rewards: torch.Tensor) -> torch.Tensor:
    """``(N, G)`` rewards -> advantages normalised within each prompt's group; 0 for a flat group."""
    std = rewards.std(dim=1, keepdim=True)  # (N, 1)
    centered = rewards - rewards.mean(dim=1, keepdim=True)
    return torch.where(std > 1e-6, centered / std.clamp(min=1e-6), torch.zeros_like(centered))


def clipped_objective(new: torch.Tensor, old: torch.Tensor, reference: torch.Tensor,
                      advantages: torch.Tensor, mask: torch.Tensor, clip: float,
                      kl_coef: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """PPO-clip surrogate + KL penalty, averaged over kept tokens.

    ``new``/``old``/``reference``: log-probs ``(R, T)``; ``advantages`` ``(R,)``; ``mask`` ``(R, T)``.
    Returns the loss to minimise and detached diagnostics (``kl``, ``clip_fraction``).
    """
    ratio = torch.exp(new - old)  # (R, T)
    gain = advantages[:, None]
    surrogate = torch.minimum(ratio * gain, ratio.clamp(1 - clip, 1 + clip) * gain)
    to_reference = reference - new
    kl = torch.exp(to_reference) - to_reference - 1  # (R, T), k3 estimate of KL(pi || base) >= 0
    weight = mask.float()
    tokens = weight.sum().clamp(min=1)
    loss = ((-surrogate + kl_coef * kl) * weight).sum() / tokens
    clipped = ((ratio - 1).abs() > clip).float()
    return loss, {"kl": (kl * weight).sum().detach() / tokens,
                  "clip_fraction": (clipped * weight).sum() / tokens}


class PolicyGradientTrainer(FlatAdamTrainer):
    """Holds the trainable adapter and its Adam state; ``train(steps)`` returns one dict a step."""

    def __init__(self, settings: PolicyGradientSettings, context,
                 mask: torch.Tensor | None = None) -> None:
        self.settings = settings
        self.loaded = context.loaded
        self.lora = context.lora
        self.pairs = context.train_pairs
        self.eval = context.evaluator.settings
        self.score = getattr(context.evaluator, "score_texts", None) or context.reward
        self.generator = context.generator
        super().__init__(context.initial_member, next(self.loaded.model.parameters()).device,
                         settings.learning_rate, settings.max_grad_norm, mask)
        self.steps_done = 0

    @property
    def completions_per_step(self) -> int:
        """Sampled (and reward-scored) completions per step."""
        return min(self.settings.prompts_per_step, len(self.pairs)) * self.settings.group_size

    def train(self, steps: int) -> list[dict[str, float]]:
        """``steps`` policy-gradient steps: one dict each (``rl/step``, ``rl/loss``, ``rl/kl``, ...)."""
        return [self.step() for _ in range(steps)]

    def _rewards(self, rollout: Rollout, batch) -> torch.Tensor:
        group = self.settings.group_size
        references = [pair.reference for pair in batch for _ in range(group)]
        prompts = [pair.prompt for pair in batch for _ in range(group)]
        rewards = torch.tensor(self.score(rollout.texts, references, prompts), dtype=torch.float32)
        return failed_as_lowest(rewards).view(len(batch), group)  # (N, G)

    def step(self) -> dict[str, float]:
        settings = self.settings
        chosen = torch.randperm(len(self.pairs), generator=self.generator)[: settings.prompts_per_step]
        batch = [self.pairs[index] for index in chosen.tolist()]
        rollout = sample_rollout(self.loaded, self.lora, self.policy.detach(), batch, settings.group_size,
                                 self.eval.max_new_tokens, self.eval.temperature, self.eval.top_p)
        rewards = self._rewards(rollout, batch)  # (N, G)
        advantages = group_advantages(rewards).reshape(-1)  # (R,)
        temperature = self.eval.temperature
        with torch.no_grad():
            reference = completion_logprobs(self.loaded, rollout, temperature)  # adapter disabled
        old = None  # the sampling policy's log-probs: the first epoch's, before any update
        losses, kls, clipped = [], [], []
        for _ in range(settings.epochs):
            with self.lora.members(self.policy[None]):  # no dropout: the policy that sampled
                new = completion_logprobs(self.loaded, rollout, temperature)  # (R, T), with grad
            old = new.detach() if old is None else old
            loss, info = clipped_objective(new, old, reference, advantages, rollout.completion_mask,
                                           settings.clip, settings.kl_coef)
            self.update(loss)  # entries outside algorithm.evolve (the mask) do not move
            losses.append(float(loss.detach()))
            kls.append(float(info["kl"]))
            clipped.append(float(info["clip_fraction"]))
        self.steps_done += 1
        return {
            "rl/step": float(self.steps_done - 1),
            "rl/loss": sum(losses) / len(losses),
            "rl/kl": sum(kls) / len(kls),
            "rl/reward": float(rewards.mean()),
            "rl/clip_fraction": sum(clipped) / len(clipped),
        }

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "steps_done": self.steps_done}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.steps_done = state["steps_done"]
