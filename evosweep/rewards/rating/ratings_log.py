"""``ratings.jsonl``: every rating, appended and flushed to disk as it arrives.

One JSON object per line, either a score
``{"kind": "score", "prompt", "output", "score", "stage", "time"}`` or a comparison
``{"kind": "comparison", "prompt", "a", "b", "winner": "a" | "b", "stage", "time"}``.
A resumed run reads the file back and asks only for what it does not hold.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from evosweep.errors import RewardError

Output = tuple[str, str]  # (prompt, output)
Comparison = tuple[str, str, str, str]  # (prompt, a, b, winner output)


class RatingsLog:
    """The ratings of one run: in memory and appended to ``path`` (None: memory only)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.scores: dict[Output, float] = {}
        self.comparisons: list[Comparison] = []
        self._lock = threading.Lock()
        if path is not None and path.exists():
            self._read(path)

    def _read(self, path: Path) -> None:
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                self._remember(record)
            except (ValueError, KeyError, TypeError) as error:
                if number == len(lines):
                    continue  # a line cut short by a kill mid-write: that rating is asked again
                raise RewardError(f"{path}:{number}: not a rating ({error}); fix or delete that line "
                                  "to resume, or start the run in a new folder") from None

    def _remember(self, record: dict) -> None:
        if record["kind"] == "score":
            self.scores[(str(record["prompt"]), str(record["output"]))] = float(record["score"])
        elif record["kind"] == "comparison":
            winner = record["a"] if record["winner"] == "a" else record["b"]
            self.comparisons.append((str(record["prompt"]), str(record["a"]), str(record["b"]), str(winner)))
        else:
            raise KeyError(f"unknown kind {record['kind']!r}")

    def add_score(self, prompt: str, output: str, score: float, stage: str) -> None:
        """Keep one score and append it to the file."""
        self._append({"kind": "score", "prompt": prompt, "output": output, "score": score, "stage": stage})

    def add_comparison(self, prompt: str, a: str, b: str, winner: str, stage: str) -> None:
        """Keep one comparison (``winner`` is ``"a"`` or ``"b"``) and append it to the file."""
        self._append({"kind": "comparison", "prompt": prompt, "a": a, "b": b, "winner": winner,
                      "stage": stage})

    def _append(self, record: dict) -> None:
        record["time"] = round(time.time(), 3)
        with self._lock:
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as stream:
                    stream.write(json.dumps(record, ensure_ascii=False) + "\n")
                    stream.flush()
                    os.fsync(stream.fileno())
            self._remember(record)

    def compared(self, prompt: str, a: str, b: str) -> bool:
        """Whether ``a`` and ``b`` (either order) were already compared for ``prompt``."""
        return any(p == prompt and {x, y} == {a, b} for p, x, y, _ in self.comparisons)
