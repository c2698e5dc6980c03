"""Text operators for prompt variants: word edits, sentence/phrase crossover, model rewrites.

Prompts evolve as plain strings. ``mutate`` makes one word-level edit (insert,
delete, swap two words, replace a word) with words drawn from a vocabulary: the
task's own prompts plus a small built-in list of instruction words. ``cross``
joins the head of one parent to the tail of the other, at a sentence boundary
when both have two or more sentences, else at word positions (a phrase span).
An optional rewrite asks the frozen base model itself to rephrase a prompt, as
EvoPrompt (Guo et al. 2023) and Promptbreeder (Fernando et al. 2023) do with
larger models. Every draw comes from the ``random.Random`` passed in.
"""

from __future__ import annotations

import random
import re

from evosweep.settings.checks import require_positive, require_unit_interval

BUILTIN_WORDS = ("answer", "reply", "only", "one", "word", "short", "concise", "exactly", "just",
                 "translate", "translation", "English", "the", "with", "a", "single", "no",
                 "explanation", "please", "give", "correct", "precise", "briefly", "output")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def vocabulary_from(texts: list[str], extra: tuple[str, ...] = BUILTIN_WORDS) -> list[str]:
    """Distinct words of ``texts`` (punctuation stripped) plus ``extra``, in first-seen order."""
    words = [word.strip(".,:;!?\"'()") for text in texts for word in text.split()]
    return list(dict.fromkeys(word for word in [*words, *extra] if word))


class TextOperators:
    """``operators.text``: how prompt variants are bred (``mutate``, ``cross``, ``rewrite_rate``)."""

    def __init__(self, crossover_rate: float = 0.5, edits: int = 1, rewrite_rate: float = 0.0,
                 max_words: int = 40) -> None:
        require_unit_interval("operators.text.crossover_rate", crossover_rate)
        require_unit_interval("operators.text.rewrite_rate", rewrite_rate)
        require_positive("operators.text.edits", edits)
        require_positive("operators.text.max_words", max_words)
        self.crossover_rate = crossover_rate
        self.edits = edits
        self.rewrite_rate = rewrite_rate
        self.max_words = max_words

    def mutate(self, text: str, rng: random.Random, vocabulary: list[str]) -> str:
        """``edits`` random word edits (insert, delete, swap, replace)."""
        words = text.split()
        for _ in range(self.edits):
            operation = rng.choice(("insert", "delete", "swap", "replace") if words else ("insert",))
            if operation == "insert" and len(words) < self.max_words:
                words.insert(rng.randrange(len(words) + 1), rng.choice(vocabulary))
            elif operation == "delete" and len(words) > 1:
                del words[rng.randrange(len(words))]
            elif operation == "swap" and len(words) > 1:
                i, j = rng.sample(range(len(words)), 2)
                words[i], words[j] = words[j], words[i]
            elif operation == "replace":
                words[rng.randrange(len(words))] = rng.choice(vocabulary)
        return " ".join(words)

    def cross(self, first: str, second: str, rng: random.Random) -> str:
        """The head of ``first`` and the tail of ``second`` (sentences, else a phrase span)."""
        a, b = _SENTENCE_END.split(first.strip()), _SENTENCE_END.split(second.strip())
        if len(a) < 2 or len(b) < 2:
            a, b = first.split(), second.split()
        if not a or not b:
            return first or second
        child = a[: rng.randint(1, len(a))] + b[rng.randint(0, len(b) - 1):]
        return " ".join(" ".join(child).split()[: self.max_words])
