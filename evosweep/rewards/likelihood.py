"""Mean log-probability of the reference given the prompt (teacher-forced)."""

from __future__ import annotations


class LikelihoodReward:
    """Per pair: mean over reference tokens of log p(token | prompt, earlier tokens).

    Range (-inf, 0]; 0 means the model is certain of the reference. With
    ``append_eos`` the end-of-sequence token counts as part of the reference,
    so a model that goes on talking after the answer scores lower.
    The evaluator computes it from logits in one batched forward pass; there
    is no generation and no text to score.
    """

    teacher_forced = True
    value_range = (float("-inf"), 0.0)

    def __init__(self, append_eos: bool = True) -> None:
        self.append_eos = append_eos

    def __call__(self, completions: list[str], references: list[str], prompts=None) -> list[float]:
        raise TypeError("LikelihoodReward is computed by the evaluator from logits, not texts")
