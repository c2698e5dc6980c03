"""A reward that takes its time, so a test can act on a run between two generations."""

from __future__ import annotations

import time


class SlowLength:
    """Length of each answer, after sleeping ``delay_s`` per call (tests/ on PYTHONPATH)."""

    value_range = (0.0, float("inf"))

    def __init__(self, delay_s: float = 0.2, **_ignored: object) -> None:
        self.delay_s = float(delay_s)

    def __call__(self, completions, references, prompts=None) -> list[float]:
        time.sleep(self.delay_s)
        return [float(len(text)) for text in completions]
