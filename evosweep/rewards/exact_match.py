"""Exact match: 1 when the answer is the reference, after normalising case, punctuation, spaces."""

from __future__ import annotations

import string

_PUNCTUATION = str.maketrans("", "", string.punctuation + "“”‘’«»¿¡")


def normalize_answer(text: str) -> str:
    """Lower-cased, punctuation removed, whitespace collapsed: ``' The Cat.'`` -> ``'the cat'``."""
    return " ".join(text.lower().translate(_PUNCTUATION).split())


class ExactMatchReward:
    """1.0 if ``normalize_answer(answer) == normalize_answer(reference)``, else 0.0.

    The measure a person reads (``heldout/exact`` is its held-out mean); as a
    training reward it is sparse: most members score 0 until answers are short.
    """

    value_range = (0.0, 1.0)

    def __call__(self, completions: list[str], references: list[str],
                 prompts: list[str] | None = None) -> list[float]:
        return [float(normalize_answer(c) == normalize_answer(r))
                for c, r in zip(completions, references, strict=True)]
