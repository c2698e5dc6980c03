"""Rewards: plain callables ``(completions, references, prompts=None) -> list[float]``.

A reward scores a whole batch of texts in one call. The one exception is
:class:`~evosweep.rewards.likelihood.LikelihoodReward`, which the evaluator
computes from the model's logits (teacher forcing) instead of from texts.
"""
