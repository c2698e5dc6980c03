"""Countdown's held-out measures (``task.measures=countdown``): well-formed and correct answers.

Exact match stays 0 on Countdown (the reference is the problem as JSON), so the
progress bar headlines the share of well-formed answers, what moves first.
"""

from __future__ import annotations

from evosweep.evaluation.measure_labels import MeasureLabel
from evosweep.rewards.countdown_verifier import judge
from evosweep.tasks.countdown import CountdownProblem
from evosweep.tasks.measures import TaskMeasures


def countdown_measures(answers: list[str], references: list[str]) -> dict[str, float]:
    """``format``: share of answers whose last ``<answer>`` holds an expression that
    evaluates; ``accuracy``: share that reach the target with the given numbers."""
    verdicts = [judge(answer, CountdownProblem.from_reference(reference))
                for answer, reference in zip(answers, references, strict=True)]
    count = max(len(verdicts), 1)
    return {"format": sum(v.form == 1.0 for v in verdicts) / count,
            "accuracy": sum(v.correct for v in verdicts) / count}


COUNTDOWN_MEASURES = TaskMeasures(
    kind="countdown",
    compute=countdown_measures,
    labels={
        "format": MeasureLabel("held-out answers well formed", "well formed", "{:.0%}", 0, share=True),
        "accuracy": MeasureLabel("held-out answers correct", "correct", "{:.0%}", 0, share=True),
    },
    headline="format",
)
