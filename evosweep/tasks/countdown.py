"""The Countdown task (as in Qiu et al., 2025, "Evolution Strategies at Scale"):
reach a target number from a few given numbers with + - * / and parentheses.

Problems are generated from a seed, each with a known solution, and split
into train and held-out. The reference of each pair is the problem as JSON,
which :class:`evosweep.rewards.countdown_verifier.CountdownReward` reads back.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from fractions import Fraction

from evosweep.errors import ConfigError
from evosweep.tasks.pairs import Pair

OPERATORS = "+-*/"


@dataclass(frozen=True)
class CountdownProblem:
    """Numbers to combine, the target to reach, and one expression that reaches it."""

    numbers: tuple[int, ...]
    target: int
    solution: str = ""

    def to_reference(self) -> str:
        """The JSON string stored as the pair's reference."""
        return json.dumps({"numbers": list(self.numbers), "target": self.target,
                           "solution": self.solution})

    @classmethod
    def from_reference(cls, reference: str) -> CountdownProblem:
        """Read a problem back from its reference; ``ValueError`` if it is not one."""
        try:
            data = json.loads(reference)
            numbers = tuple(int(n) for n in data["numbers"])
            return cls(numbers=numbers, target=int(data["target"]), solution=str(data.get("solution", "")))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a countdown problem: {reference[:80]!r} ({error})") from None

    def prompt(self) -> str:
        """The instruction shown to the model."""
        numbers = ", ".join(str(n) for n in self.numbers)
        return (
            f"Make {self.target} from the numbers {numbers} using + - * / and parentheses. "
            "Use each number at most once. Write only the expression inside answer tags, "
            "like <answer>(4 + 6) * 2</answer>.\n"
        )


def _apply(operator: str, left: Fraction, right: Fraction) -> Fraction | None:
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    return left / right if right != 0 else None


def random_problem(rng: random.Random, count: int, max_number: int, max_target: int,
                   attempts: int = 200) -> CountdownProblem | None:
    """Combine ``count`` random numbers with random operators until the result is a target
    in ``[1, max_target]``; None if no attempt gets there."""
    numbers = [rng.randint(1, max_number) for _ in range(count)]
    for _ in range(attempts):
        items = [(Fraction(n), str(n)) for n in numbers]
        while len(items) > 1:
            rng.shuffle(items)
            (left, left_text), (right, right_text) = items.pop(), items.pop()
            operator = rng.choice(OPERATORS)
            value = _apply(operator, left, right)
            if value is None:
                break
            items.append((value, f"({left_text} {operator} {right_text})"))
        if len(items) != 1:  # a division by zero stopped this attempt
            continue
        value, text = items[0]
        if value.denominator == 1 and 1 <= value <= max_target:
            return CountdownProblem(tuple(numbers), int(value), text[1:-1] if count > 1 else text)
    return None


def countdown_splits(seed: int = 0, train_size: int = 64, heldout_size: int = 32,
                     min_numbers: int = 3, max_numbers: int = 4, max_number: int = 99,
                     max_target: int = 100) -> tuple[list[Pair], list[Pair]]:
    """``train_size`` + ``heldout_size`` distinct solvable problems from ``seed``: (train, held-out)."""
    if not 2 <= min_numbers <= max_numbers:
        raise ConfigError("task.generator.min_numbers", "need 2 <= min_numbers <= max_numbers")
    if train_size < 1 or heldout_size < 0 or max_number < 1 or max_target < 1:
        raise ConfigError("task.generator", "sizes, max_number and max_target must be positive")
    rng = random.Random(seed)
    problems: dict[tuple, CountdownProblem] = {}
    wanted = train_size + heldout_size
    for _ in range(wanted * 100):
        if len(problems) == wanted:
            break
        problem = random_problem(rng, rng.randint(min_numbers, max_numbers), max_number, max_target)
        if problem is not None:
            problems.setdefault((tuple(sorted(problem.numbers)), problem.target), problem)
    if len(problems) < wanted:
        raise ConfigError("task.generator", f"only {len(problems)} distinct problems fit these limits; "
                          "ask for fewer or widen max_number / max_target")
    pairs = [Pair(p.prompt(), p.to_reference(), f"<answer>{p.solution}</answer>") for p in problems.values()]
    return pairs[:train_size], pairs[train_size:]
