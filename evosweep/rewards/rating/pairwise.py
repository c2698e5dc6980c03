"""Pairwise mode: which pairs to show, and scores from the comparisons (Bradley-Terry)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from evosweep.rewards.rating.ratings_log import Comparison

Pair = tuple[str, str, str]  # (prompt, a, b)


def choose_pairs(outputs_by_prompt: dict[str, list[str]], budget: int, rng: random.Random,
                 already: Sequence[Comparison] = ()) -> list[Pair]:
    """At most ``budget`` new pairs: first a cycle through each prompt's outputs, so that every
    output meets another one, then random pairs; pairs already in ``already`` are not shown again."""
    seen = {(prompt, frozenset((a, b))) for prompt, a, b, _ in already}
    cycles: list[list[Pair]] = []
    for prompt, outputs in outputs_by_prompt.items():
        order = list(outputs)
        rng.shuffle(order)
        if len(order) >= 2:
            rotation = list(zip(order, order[1:] + order[:1], strict=True)) if len(order) > 2 else [
                (order[0], order[1])]
            cycles.append([(prompt, a, b) for a, b in rotation])
    chosen: list[Pair] = []

    def take(pair: Pair) -> None:
        key = (pair[0], frozenset(pair[1:]))
        if key not in seen and len(chosen) < budget:
            seen.add(key)
            chosen.append(pair)

    for step in range(max((len(cycle) for cycle in cycles), default=0)):  # prompts take turns
        for cycle in cycles:
            if step < len(cycle):
                take(cycle[step])
    candidates = [(prompt, a, b) for prompt, outputs in outputs_by_prompt.items()
                  for i, a in enumerate(outputs) for b in outputs[i + 1:]]
    rng.shuffle(candidates)
    for pair in candidates:
        take(pair)
    return chosen


def bradley_terry(outputs: Sequence[str], comparisons: Sequence[tuple[str, str, str]],
                  iterations: int = 200) -> dict[str, float]:
    """Each output's chance to beat an average one, in (0, 1), from ``(a, b, winner)`` comparisons.

    Bradley-Terry strengths fitted by minorisation-maximisation, with one virtual win and one
    virtual loss against a reference of strength 1 per output (so an output never compared,
    or always winning, gets a finite score; an output never compared scores 0.5).
    """
    strength = {output: 1.0 for output in outputs}
    games = [(a, b, winner) for a, b, winner in comparisons if a in strength and b in strength]
    for _ in range(iterations):
        updated = {}
        for output in outputs:
            wins = 1.0 + sum(1 for _, _, winner in games if winner == output)
            denominator = 2.0 / (strength[output] + 1.0)  # the virtual games
            for a, b, _ in games:
                if output in (a, b):
                    other = b if output == a else a
                    denominator += 1.0 / (strength[output] + strength[other])
            updated[output] = wins / denominator
        strength = updated
    return {output: value / (value + 1.0) for output, value in strength.items()}
