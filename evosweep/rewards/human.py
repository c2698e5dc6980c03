"""Human feedback: a person scores each distinct output in the terminal (y/n or 0-9)."""

from __future__ import annotations

import sys
from typing import TextIO

from evosweep.errors import RewardError

YES = ("y", "yes")
NO = ("n", "no")


def parse_answer(answer: str) -> float | None:
    """``y``/``yes`` -> 1, ``n``/``no`` -> 0, a digit d -> d / 9; None if not an answer."""
    answer = answer.strip().lower()
    if answer in YES:
        return 1.0
    if answer in NO:
        return 0.0
    if len(answer) == 1 and answer.isdigit():
        return int(answer) / 9.0
    return None


class HumanFeedbackReward:
    """Shows each distinct (prompt, completion) once, numbered, and reads a score for it.

    Answers: ``y``/``n`` (1 / 0) or a digit 0-9 (scaled to [0, 1]); anything
    else is asked again. Range [0, 1]. An output already scored is not asked
    again in later generations (``remember``). A closed input (end of file)
    stops the run with a clear error. ``input_stream``/``output_stream``
    default to the terminal (sys.stdin / sys.stdout at call time).
    """

    value_range = (0.0, 1.0)
    interactive = True  # asks in this process's terminal: never on evaluation workers

    def __init__(self, show_reference: bool = True, remember: bool = True,
                 input_stream: TextIO | None = None, output_stream: TextIO | None = None) -> None:
        self.show_reference = show_reference
        self.remember = remember
        self.input_stream = input_stream
        self.output_stream = output_stream
        self.known: dict[tuple[str, str], float] = {}

    def _ask(self, number: int, total: int, prompt: str, reference: str, completion: str) -> float:
        out = self.output_stream or sys.stdout
        source = self.input_stream or sys.stdin
        out.write(f"\n[{number}/{total}] prompt: {prompt.strip()}\n")
        if self.show_reference:
            out.write(f"  reference: {reference}\n")
        out.write(f"  output:    {completion}\n")
        while True:
            out.write("  score (y/n or 0-9): ")
            out.flush()
            line = source.readline()
            if not line:
                raise RewardError("reward=human: the input closed before every output was scored; "
                                  "run in a terminal, or pipe one answer (y/n or 0-9) per line")
            score = parse_answer(line)
            if score is not None:
                return score
            out.write(f"  {line.strip()!r} is not y, n or a digit 0-9\n")

    def __call__(
        self, completions: list[str], references: list[str], prompts: list[str] | None = None
    ) -> list[float]:
        prompts = prompts if prompts is not None else [""] * len(completions)
        keys = list(zip(prompts, completions, strict=True))
        reference_of = dict(zip(keys, references, strict=True))
        new = [key for key in dict.fromkeys(keys) if key not in self.known]
        answers = dict(self.known) if self.remember else {}
        if new:
            (self.output_stream or sys.stdout).write(f"\n=== human feedback: {len(new)} distinct outputs ===")
        for number, key in enumerate(new, start=1):
            answers[key] = self._ask(number, len(new), key[0], reference_of[key], key[1])
        if self.remember:
            self.known.update(answers)
        return [answers[key] for key in keys]
