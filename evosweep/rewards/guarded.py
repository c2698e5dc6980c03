"""Make any text reward safe to call on a whole population.

:class:`GuardedReward` scores each distinct (completion, reference, prompt)
once per call (one call = one generation's evaluation), and turns an
exception, a NaN or an infinity for a text into NaN for that text, with a
warning naming the members and the text. Errors of evosweep's own
(:class:`~evosweep.errors.EvosweepError`: a config mistake, a closed stdin)
are the user's to fix and still stop the run.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import torch

from evosweep.errors import EvosweepError, RewardError, shorten

log = logging.getLogger("evosweep.rewards")
Key = tuple[str, str, "str | None"]


def reward_name(reward: object) -> str:
    """A short name for messages: the class name."""
    return type(reward).__name__


class GuardedReward:
    """Wraps a text reward: dedupes within a call, maps failures to NaN with a warning."""

    def __init__(self, reward: Callable) -> None:
        self.reward = reward
        self.value_range = getattr(reward, "value_range", (float("-inf"), float("inf")))
        self.last_error: str | None = None

    def __call__(self, completions: list[str], references: list[str], prompts: list[str] | None = None,
                 members: list[int] | None = None) -> list[float]:
        """Scores aligned with ``completions``; NaN where the reward failed.

        ``members[i]`` is the population member that wrote ``completions[i]``
        (used in warnings only).
        """
        prompt_list = list(prompts) if prompts is not None else [None] * len(completions)
        keys: list[Key] = list(zip(completions, references, prompt_list, strict=True))
        unique = list(dict.fromkeys(keys))
        scores, reasons = self._score_unique(unique, with_prompts=prompts is not None)
        by_key = dict(zip(unique, scores, strict=True))
        self._warn(keys, reasons, members)
        return [by_key[key] for key in keys]

    def _score_unique(self, unique: list[Key], with_prompts: bool) -> tuple[list[float], dict[Key, str]]:
        self.last_error = None
        try:
            raw = self._call(unique, with_prompts)
        except EvosweepError:
            raise
        except Exception as error:  # one bad text must not hide the scores of the others
            log.warning("reward %s failed on a batch of %d texts (%s); scoring them one by one",
                        reward_name(self.reward), len(unique), _describe(error))
            raw = []
            for key in unique:
                try:
                    raw.append(self._call([key], with_prompts)[0])
                except EvosweepError:
                    raise
                except Exception as item_error:
                    raw.append(item_error)
        scores, reasons = [], {}
        for key, value in zip(unique, raw, strict=True):
            score, reason = _as_score(value)
            scores.append(score)
            if reason is not None:
                reasons[key] = reason
                self.last_error = self.last_error or reason
        return scores, reasons

    def _call(self, keys: list[Key], with_prompts: bool) -> list:
        completions = [key[0] for key in keys]
        references = [key[1] for key in keys]
        prompts = [key[2] for key in keys] if with_prompts else None
        values = list(self.reward(completions, references, prompts))
        if len(values) != len(keys):
            raise ValueError(f"returned {len(values)} scores for {len(keys)} texts")
        return values

    def _warn(self, keys: list[Key], reasons: dict[Key, str], members: list[int] | None) -> None:
        for key, reason in reasons.items():
            rows = [row for row, other in enumerate(keys) if other == key]
            who = sorted({members[row] for row in rows}) if members is not None else rows
            label = "member(s)" if members is not None else "row(s)"
            completion = shorten(key[0], 120)
            log.warning("reward %s failed for %s %s on completion %r: %s; scored as the worst fitness",
                        reward_name(self.reward), label, ", ".join(map(str, who)), completion, reason)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _as_score(value: Any) -> tuple[float, str | None]:
    """(float score, None) or (NaN, why it is not a score); ``value``: whatever the reward returned."""
    if isinstance(value, BaseException):
        return math.nan, _describe(value)
    try:
        score = float(value)
    except (TypeError, ValueError):
        return math.nan, f"not a number: {value!r}"
    if not math.isfinite(score):
        return math.nan, f"non-finite score {score}"
    return score, None


def guard(reward: Callable) -> GuardedReward:
    """``reward`` wrapped once (an already guarded reward is returned as is)."""
    return reward if isinstance(reward, GuardedReward) else GuardedReward(reward)


def require_some_member_scored(scores: torch.Tensor, reward: GuardedReward) -> None:
    """Stop when every member has a failed text ``(P, N)``.

    A single member (the held-out check of the best) stops only when none of
    its texts could be scored; otherwise its NaN fitness is reported as is.
    """
    failed = scores.isnan()
    members_failed = bool(failed.any(dim=1).all())
    if members_failed and (scores.shape[0] > 1 or bool(failed.all())):
        raise RewardError(
            f"reward {reward_name(reward.reward)} failed for every member "
            f"({scores.shape[0]} members x {scores.shape[1]} texts); first error: {reward.last_error}. "
            "See the warnings above; check the reward's config, its model, and that it suits the task."
        )
