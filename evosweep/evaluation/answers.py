"""What a person sees in an answer: is it exactly right, and how long is it."""

from __future__ import annotations

import string

_PUNCTUATION = str.maketrans("", "", string.punctuation + "“”‘’«»¿¡")


def normalize_answer(text: str) -> str:
    """Lower-cased, punctuation removed, whitespace collapsed: ``' The Cat.'`` -> ``'the cat'``."""
    return " ".join(text.lower().translate(_PUNCTUATION).split())


def exact_share(answers: list[str], references: list[str]) -> float:
    """Share of answers equal to their reference after :func:`normalize_answer`."""
    if not answers:
        return 0.0
    hits = sum(normalize_answer(a) == normalize_answer(r) for a, r in zip(answers, references, strict=True))
    return hits / len(answers)


def mean_words(answers: list[str]) -> float:
    """Mean number of whitespace-separated words per answer."""
    return sum(len(answer.split()) for answer in answers) / max(len(answers), 1)
