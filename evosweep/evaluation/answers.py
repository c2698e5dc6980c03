"""What a person sees in every task's answers: right or not, and how long.

A task's own measures (chrF for translation-like tasks, well-formed and correct
answers for Countdown) come with its kind: :class:`evosweep.tasks.measures.TaskMeasures`.
"""

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
