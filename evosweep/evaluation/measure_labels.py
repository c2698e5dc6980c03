"""How a held-out measure is named and printed, in the run summary and in report tables.

The measures every task logs are labelled here; a task's own measures carry their
labels with them (:class:`evosweep.tasks.measures.TaskMeasures`). A measure with
no label still prints, under its own name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MeasureLabel:
    """``summary``: the run summary's row; ``column``: a report table's header;
    ``style``: one value in the summary; ``decimals``: in report tables (mean ± std);
    ``share``: a fraction of the answers, which report tables print in percent."""

    summary: str
    column: str
    style: str
    decimals: int
    share: bool = False


#: measures of every task's answers, listed first in report tables
ANSWER_LABELS: dict[str, MeasureLabel] = {
    "answer_words": MeasureLabel("held-out words per answer", "words per answer", "{:.1f}", 1),
}
#: measures of the adapted model itself (``eval.heldout_kl``), listed last in report tables
MODEL_LABELS: dict[str, MeasureLabel] = {
    "kl": MeasureLabel("KL to the base model per answer token", "KL to base (nats/token)", "{:.4f}", 4),
}
#: the second held-out set's measure (``task.transfer_path``), checked at the run's start and end
TRANSFER_LABELS: dict[str, MeasureLabel] = {
    "transfer_exact": MeasureLabel("second held-out set exact (task.transfer_path)", "second set exact",
                                   "{:.0%}", 0, share=True),
}
#: every task's labels
COMMON_LABELS: dict[str, MeasureLabel] = {**ANSWER_LABELS, **TRANSFER_LABELS, **MODEL_LABELS}


def fallback_label(name: str) -> MeasureLabel:
    """The label of a measure nothing names: its own name, four decimals."""
    return MeasureLabel(f"held-out {name}", name, "{:.4f}", 4)
