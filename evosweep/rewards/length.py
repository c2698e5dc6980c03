"""A length penalty: how far an answer's word count is from what it should be."""

from __future__ import annotations

from evosweep.errors import ConfigError


class LengthPenalty:
    """0 for the right length, down to -1 for far too long (or too short).

    With ``max_words`` set, only words beyond it cost: -(extra / max_words).
    Otherwise the reference's word count is the target and both directions
    cost: -|words - target| / target. Clipped to [-1, 0]; meant as a small
    term of a composite reward (e.g. chrF + 0.1 * length).
    """

    value_range = (-1.0, 0.0)

    def __init__(self, max_words: int | None = None) -> None:
        if max_words is not None and max_words < 1:
            raise ConfigError("reward.max_words", f"must be >= 1 or null, got {max_words}")
        self.max_words = max_words

    def penalty(self, completion: str, reference: str) -> float:
        """The penalty of one completion."""
        words = len(completion.split())
        if self.max_words is not None:
            distance = max(0, words - self.max_words) / self.max_words
        else:
            target = max(1, len(reference.split()))
            distance = abs(words - target) / target
        return -min(1.0, distance)

    def __call__(
        self, completions: list[str], references: list[str], prompts: list[str] | None = None
    ) -> list[float]:
        return [self.penalty(c, r) for c, r in zip(completions, references, strict=True)]


class LengthDistance:
    """Qiu et al. 2025's conciseness reward: ``-|len(answer) - len(reference)|``.

    Lengths in characters of the stripped texts (``unit: words`` counts words).
    Unbounded below and not normalised: ES's and GRPO's fitness shaping make the
    scale irrelevant, and the raw distance reads directly ("12 characters off").
    """

    value_range = (float("-inf"), 0.0)

    def __init__(self, unit: str = "chars") -> None:
        if unit not in ("chars", "words"):
            raise ConfigError("reward.unit", f"must be 'chars' or 'words', got {unit!r}")
        self.unit = unit

    def length(self, text: str) -> int:
        """Characters (or words) of ``text`` without surrounding whitespace."""
        return len(text.strip()) if self.unit == "chars" else len(text.split())

    def __call__(
        self, completions: list[str], references: list[str], prompts: list[str] | None = None
    ) -> list[float]:
        return [-float(abs(self.length(c) - self.length(r)))
                for c, r in zip(completions, references, strict=True)]
