"""Positivity of the text by the VADER lexicon (vaderSentiment), offline and cheap."""

from __future__ import annotations

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from evosweep.settings.checks import require_choice

SCORES = ("compound", "pos", "neu", "neg")


class SentimentReward:
    """VADER's ``compound`` score in [-1, 1] (or its ``pos``/``neu``/``neg`` share in [0, 1]).

    References and prompts are ignored: the text alone is judged, for the
    classic "make the model more positive" task.
    """

    def __init__(self, score: str = "compound") -> None:
        require_choice("reward.score", score, SCORES)
        self.score = score
        self.value_range = (-1.0, 1.0) if score == "compound" else (0.0, 1.0)
        self.analyzer = SentimentIntensityAnalyzer()

    def __call__(
        self, completions: list[str], references: list[str], prompts: list[str] | None = None
    ) -> list[float]:
        return [float(self.analyzer.polarity_scores(text)[self.score]) for text in completions]
