"""Rewards that fail on purpose, importable by jobs a test starts (tests/ on PYTHONPATH)."""

from __future__ import annotations

HELDOUT_TRAP = "Translate this French to English, answer with the English only: chat"


class NanOnOnePrompt:
    """chrF-like stand-in: length of the answer, NaN for the one trap prompt (a held-out one)."""

    value_range = (0.0, float("inf"))

    def __init__(self, **_ignored: object) -> None:
        pass

    def __call__(self, completions, references, prompts=None) -> list[float]:
        prompts = prompts or [None] * len(completions)
        return [float("nan") if prompt == HELDOUT_TRAP else float(len(text))
                for text, prompt in zip(completions, prompts, strict=True)]
