"""The Countdown verifier: does the answer's expression reach the target with the given numbers?"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from evosweep.errors import ConfigError
from evosweep.rewards.arithmetic import ExpressionError, evaluate
from evosweep.tasks.countdown import CountdownProblem

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_RESTATED_TARGET = re.compile(r"^(.*)=\s*(\d{1,9})\s*$", re.DOTALL)


def last_answer(completion: str) -> str | None:
    """The text inside the last ``<answer>...</answer>``, or None if there is none."""
    found = _ANSWER.findall(completion)
    return found[-1].strip() if found else None


def uses_numbers(used: tuple[int, ...], allowed: tuple[int, ...], use_all: bool) -> bool:
    """Each literal is one of ``allowed``, no number more often than given (all of them if ``use_all``)."""
    used_count, allowed_count = Counter(used), Counter(allowed)
    if use_all:
        return used_count == allowed_count
    return all(used_count[n] <= allowed_count[n] for n in used_count)


@dataclass(frozen=True)
class Verdict:
    """``form``: 1 for an answer that evaluates, 0.5 for tags around anything else, 0 without
    tags; ``correct``: it uses the allowed numbers and equals the target; ``closeness``: for
    a wrong expression over the allowed numbers, ``1 - |value - target| / target`` clipped
    at 0 (0 otherwise)."""

    form: float
    correct: bool
    closeness: float = 0.0


def judge(completion: str, problem: CountdownProblem, use_all: bool = False) -> Verdict:
    """Read the last ``<answer>`` of ``completion`` and check it against ``problem``."""
    answer = last_answer(completion)
    if answer is None:
        return Verdict(0.0, False)
    restated = _RESTATED_TARGET.match(answer)
    if restated and int(restated.group(2)) == problem.target:
        answer = restated.group(1)
    try:
        result = evaluate(answer)
    except ExpressionError:
        return Verdict(0.5, False)
    allowed = uses_numbers(result.numbers, problem.numbers, use_all)
    correct = allowed and result.value == problem.target
    closeness = 0.0
    if allowed and not correct:
        closeness = max(0.0, 1.0 - float(abs(result.value - problem.target)) / max(problem.target, 1))
    return Verdict(1.0, correct, closeness)


class CountdownReward:
    """1 for a correct expression, plus ``format_weight`` for a well-formed answer
    (and, with ``closeness_weight``, partial credit for a wrong one near the target).

    Score = correct + format_weight * form + closeness_weight * closeness, where
    ``correct`` is 1 when the last ``<answer>`` holds an expression that uses only the
    given numbers, each at most once (exactly once with ``use_all``), and equals the
    target; ``form`` is 1 for an answer that evaluates as arithmetic, 0.5 for answer tags
    around anything else (a division by zero too), 0 without tags; ``closeness`` is
    ``1 - |value - target| / target`` clipped at 0 for a wrong expression over the
    allowed numbers (0 for a right one, so a right answer always outscores a near one).
    ``expr = target`` is accepted as ``expr``. Range [0, 1 + format_weight]. References
    are countdown problems as JSON (``task=countdown``).
    """

    def __init__(self, format_weight: float = 0.1, use_all: bool = False,
                 closeness_weight: float = 0.0) -> None:
        if format_weight < 0:
            raise ConfigError("reward.format_weight", f"must be >= 0, got {format_weight}")
        if not 0 <= closeness_weight < 1:
            raise ConfigError("reward.closeness_weight",
                              f"must be in [0, 1) so that a right answer outscores a near one, "
                              f"got {closeness_weight}")
        self.format_weight = format_weight
        self.use_all = use_all
        self.closeness_weight = closeness_weight
        self.value_range = (0.0, 1.0 + format_weight)

    def score(self, completion: str, problem: CountdownProblem) -> float:
        """Score one completion against one problem."""
        verdict = judge(completion, problem, self.use_all)
        return (float(verdict.correct) + self.format_weight * verdict.form
                + self.closeness_weight * verdict.closeness)

    def __call__(
        self, completions: list[str], references: list[str], prompts: list[str] | None = None
    ) -> list[float]:
        problems = {}
        for reference in set(references):
            try:
                problems[reference] = CountdownProblem.from_reference(reference)
            except ValueError as error:
                raise ConfigError("reward", f"reward=countdown needs task=countdown: {error}") from None
        return [self.score(completion, problems[reference])
                for completion, reference in zip(completions, references, strict=True)]
