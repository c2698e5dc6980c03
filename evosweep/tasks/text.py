"""Translation-like tasks (``task.measures=text``): answers are text to compare with the reference."""

from __future__ import annotations

from sacrebleu.metrics import CHRF

from evosweep.evaluation.measure_labels import MeasureLabel
from evosweep.tasks.measures import TaskMeasures

_CHRF = CHRF()


def text_measures(answers: list[str], references: list[str]) -> dict[str, float]:
    """``chrf``: mean sentence chrF / 100 against the references (on topic or not);
    ``answer_chars``: mean characters per stripped answer."""
    count = max(len(answers), 1)
    chrf = sum(_CHRF.sentence_score(answer.strip(), [reference]).score
               for answer, reference in zip(answers, references, strict=True)) / 100
    return {"chrf": chrf / count, "answer_chars": sum(len(a.strip()) for a in answers) / count}


TEXT_MEASURES = TaskMeasures(
    kind="text",
    compute=text_measures,
    labels={
        "answer_chars": MeasureLabel("held-out characters per answer", "characters per answer", "{:.1f}", 1),
        "chrf": MeasureLabel("held-out chrF of the answers", "chrF", "{:.3f}", 3),
    },
)
