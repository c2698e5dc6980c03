"""ROUGE-1, ROUGE-2 or ROUGE-L F-measure of the answer against the reference (``rouge-score``)."""

from __future__ import annotations

from evosweep.settings.checks import require_choice

VARIANTS = ("rouge1", "rouge2", "rougeL")


class RougeReward:
    """Google's ``rouge-score`` F-measure per (answer, reference), in [0, 1].

    ``variant``: rouge1 (unigram overlap), rouge2 (bigrams) or rougeL (longest
    common subsequence). ``use_stemmer`` applies the Porter stemmer to both sides.
    """

    value_range = (0.0, 1.0)

    def __init__(self, variant: str = "rougeL", use_stemmer: bool = False) -> None:
        require_choice("reward.variant", variant, VARIANTS)
        from rouge_score.rouge_scorer import RougeScorer

        self.variant = variant
        self.scorer = RougeScorer([variant], use_stemmer=use_stemmer)

    def __call__(self, completions: list[str], references: list[str],
                 prompts: list[str] | None = None) -> list[float]:
        return [self.scorer.score(reference, completion.strip())[self.variant].fmeasure
                for completion, reference in zip(completions, references, strict=True)]
