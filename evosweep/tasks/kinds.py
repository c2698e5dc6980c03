"""The kinds of task ``task.measures`` chooses from, each with its own held-out measures."""

from __future__ import annotations

from evosweep.evaluation.measure_labels import ANSWER_LABELS, MODEL_LABELS, TRANSFER_LABELS, MeasureLabel
from evosweep.settings.checks import require_choice
from evosweep.tasks.countdown_measures import COUNTDOWN_MEASURES
from evosweep.tasks.measures import TaskMeasures
from evosweep.tasks.text import TEXT_MEASURES

#: ``task.measures`` value -> its measures: the one place a new kind of task is registered
TASK_KINDS: dict[str, TaskMeasures] = {kind.kind: kind for kind in (TEXT_MEASURES, COUNTDOWN_MEASURES)}


def measures_for(kind: str) -> TaskMeasures:
    """The measures of kind ``kind``; a ConfigError on ``task.measures`` naming the choices otherwise."""
    require_choice("task.measures", kind, tuple(TASK_KINDS))
    return TASK_KINDS[kind]


def all_measure_labels() -> dict[str, MeasureLabel]:
    """Every measure any task logs, in report-table order: words per answer, each kind's own, the
    second held-out set's, KL."""
    own = {name: label for measures in TASK_KINDS.values() for name, label in measures.labels.items()}
    return {**ANSWER_LABELS, **own, **TRANSFER_LABELS, **MODEL_LABELS}
