"""What a person sees in an answer: is it exactly right, and how long is it."""

from __future__ import annotations

from evosweep.rewards.exact_match import ExactMatchReward

_EXACT = ExactMatchReward()


def exact_share(answers: list[str], references: list[str]) -> float:
    """Share of answers equal to their reference (see :class:`ExactMatchReward`)."""
    if not answers:
        return 0.0
    return sum(_EXACT(answers, references)) / len(answers)


def mean_words(answers: list[str]) -> float:
    """Mean number of whitespace-separated words per answer."""
    return sum(len(answer.split()) for answer in answers) / max(len(answers), 1)
