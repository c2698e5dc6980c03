"""Sentence-level BLEU and chrF (sacrebleu) on the generated continuation, in [0, 1]."""

from __future__ import annotations

from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.metrics.base import Metric


class SentenceMetricReward:
    """A sacrebleu metric scored per (completion, reference) sentence, divided by 100."""

    value_range = (0.0, 1.0)

    def __init__(self, metric: Metric) -> None:
        self.metric = metric

    def __call__(
        self, completions: list[str], references: list[str], prompts: list[str] | None = None
    ) -> list[float]:
        return [
            self.metric.sentence_score(completion.strip(), [reference]).score / 100.0
            for completion, reference in zip(completions, references, strict=True)
        ]


class BleuReward(SentenceMetricReward):
    """Sentence BLEU / 100 with effective order (short outputs are not zeroed)."""

    def __init__(self, lowercase: bool = False) -> None:
        super().__init__(BLEU(effective_order=True, lowercase=lowercase))


class ChrfReward(SentenceMetricReward):
    """Sentence chrF (character n-gram F-score; word n-grams too when ``word_order`` > 0) / 100."""

    def __init__(self, word_order: int = 0, lowercase: bool = False) -> None:
        super().__init__(CHRF(word_order=word_order, lowercase=lowercase))
