"""The call every text reward implements: a batch of texts in, one number per text out."""

from __future__ import annotations

from typing import Protocol


class Reward(Protocol):
    """Scores ``completions`` against the aligned ``references`` (and raw ``prompts``).

    One call scores a whole generation; the result has one float per completion.
    Optional class attributes (read where present): ``value_range`` (low, high),
    ``teacher_forced`` (the evaluator scores log-likelihood instead of calling it),
    ``interactive`` (it asks a person in this process). See docs/guides/own-reward.md.
    """

    def __call__(self, completions: list[str], references: list[str],
                 prompts: list[str] | None = None) -> list[float]: ...
