"""How each held-out measure is named and printed, in the run summary and in report tables.

One entry per measure that :mod:`evosweep.evaluation.answers` (or ``eval.heldout_kl``)
logs as ``heldout/<name>``; a measure missing here still prints, under its own name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MeasureLabel:
    """``summary``: the run summary's row; ``column``: a report table's header;
    ``style``: one value in the summary; ``decimals``: in report tables (mean ± std)."""

    summary: str
    column: str
    style: str
    decimals: int


MEASURE_LABELS: dict[str, MeasureLabel] = {
    "answer_words": MeasureLabel("held-out words per answer", "words per answer", "{:.1f}", 1),
    "answer_chars": MeasureLabel("held-out characters per answer", "characters per answer", "{:.1f}", 1),
    "chrf": MeasureLabel("held-out chrF of the answers", "chrF", "{:.3f}", 3),
    "kl": MeasureLabel("KL to the base model per answer token", "KL to base (nats/token)", "{:.4f}", 4),
    "format": MeasureLabel("held-out answers well formed", "well formed", "{:.0%}", 2),
    "accuracy": MeasureLabel("held-out answers correct", "correct", "{:.0%}", 2),
}


def measure_label(name: str) -> MeasureLabel:
    """The label of measure ``name``; an unknown one is shown under its own name."""
    return MEASURE_LABELS.get(name, MeasureLabel(f"held-out {name}", name, "{:.4f}", 4))
