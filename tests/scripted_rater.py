"""A scripted person for the human-feedback tests: the same answer for the same output,
whether it is typed into the terminal (``reward=human``) or clicked on the page (``human_web``)."""

from __future__ import annotations

import io

OUTPUT_MARK = "  output:    "
QUESTION = "\n  score (y/n or 0-9): "


def answer_for(output: str) -> str:
    """The rater's answer to one output: a digit from its length (so outputs differ in score)."""
    return str(len(output) % 10)


def preferred(a: str, b: str) -> str:
    """Pairwise: the rater prefers the shorter output (``a`` on ties)."""
    return "a" if len(a) <= len(b) else "b"


class ScriptedTerminal(io.StringIO):
    """stdin and stdout of ``reward=human`` at once: reads the question it was shown, answers it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def readline(self, size: int = -1) -> str:  # noqa: ARG002 (the stream signature)
        shown = self.getvalue()
        start = shown.rindex(OUTPUT_MARK) + len(OUTPUT_MARK)
        output = shown[start:shown.rindex(QUESTION)]
        self.asked.append(output)
        return answer_for(output) + "\n"
