"""A weighted sum of text rewards, configured as a list of terms in YAML."""

from __future__ import annotations

from collections.abc import Callable

from evosweep.errors import ConfigError


def _weighted_range(weight: float, low: float, high: float) -> tuple[float, float]:
    ends = (weight * low, weight * high) if weight else (0.0, 0.0)
    return min(ends), max(ends)


class CompositeReward:
    """``sum(weight_i * reward_i)``, each term scoring the whole batch in one call.

    ``terms`` is a list of ``{weight: float, reward: <a reward>}``; Hydra builds
    the inner rewards from their ``_target_``. The range is the weighted sum of
    the terms' ranges. Teacher-forced rewards (likelihood) cannot be terms:
    they are not computed from texts.
    """

    def __init__(self, terms: list[dict]) -> None:
        if not terms:
            raise ConfigError("reward.terms", "list at least one {weight, reward} term")
        self.weights: list[float] = []
        self.rewards: list[Callable] = []
        for index, term in enumerate(terms):
            field = f"reward.terms[{index}]"
            if not isinstance(term, dict) or set(term) != {"weight", "reward"}:
                raise ConfigError(field, "each term needs exactly the keys 'weight' and 'reward'")
            if not callable(term["reward"]):
                raise ConfigError(f"{field}.reward", "give a reward config with a _target_")
            if getattr(term["reward"], "teacher_forced", False):
                raise ConfigError(f"{field}.reward", "a teacher-forced reward cannot be a composite term")
            self.weights.append(float(term["weight"]))
            self.rewards.append(term["reward"])
        ranges = [_weighted_range(w, *getattr(r, "value_range", (float("-inf"), float("inf"))))
                  for w, r in zip(self.weights, self.rewards, strict=True)]
        self.value_range = (sum(low for low, _ in ranges), sum(high for _, high in ranges))

    def __call__(
        self, completions: list[str], references: list[str], prompts: list[str] | None = None
    ) -> list[float]:
        total = [0.0] * len(completions)
        for weight, reward in zip(self.weights, self.rewards, strict=True):
            scores = reward(completions, references, prompts)
            if len(scores) != len(completions):
                raise ValueError(f"{type(reward).__name__} returned {len(scores)} scores "
                                 f"for {len(completions)} texts")
            total = [t + weight * float(s) for t, s in zip(total, scores, strict=True)]
        return total
