"""A kind of task's held-out measures: how they are computed, named, and which one the progress bar shows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from evosweep.evaluation.measure_labels import COMMON_LABELS, MeasureLabel, fallback_label

#: answers, references -> {measure name: value}
MeasureFn = Callable[[list[str], list[str]], dict[str, float]]


@dataclass(frozen=True)
class TaskMeasures:
    """``kind``: the ``task.measures`` value that picks these; ``compute``: the task's own measures
    of the held-out answers; ``labels``: how each is printed; ``headline``: the measure shown
    in the progress bar next to the held-out reward (None: none)."""

    kind: str
    compute: MeasureFn
    labels: Mapping[str, MeasureLabel] = field(default_factory=dict)
    headline: str | None = None

    def __call__(self, answers: list[str], references: list[str]) -> dict[str, float]:
        """The task's own measures of ``answers`` against ``references``."""
        return self.compute(answers, references)

    def label(self, name: str) -> MeasureLabel:
        """The label of measure ``name``: the task's own, a common one (``kl``), else its name."""
        return self.labels.get(name) or COMMON_LABELS.get(name) or fallback_label(name)

    def progress_fields(self, measures: dict[str, float]) -> dict[str, str]:
        """The headline measure, formatted for the progress bar (``{"format": "40%"}``), if logged."""
        if self.headline is None or self.headline not in measures:
            return {}
        return {self.headline: self.label(self.headline).style.format(measures[self.headline])}
