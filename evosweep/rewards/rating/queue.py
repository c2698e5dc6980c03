"""The outputs waiting for a person's rating, shared by the run and the web server's threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass

from evosweep.rewards.human import parse_answer


@dataclass(frozen=True)
class RatingItem:
    """One thing to rate: an output (score mode) or two outputs of one prompt (pairwise)."""

    id: int
    prompt: str
    reference: str | None
    output: str | None = None  # score mode
    a: str | None = None  # pairwise mode
    b: str | None = None


class RatingRejected(Exception):
    """A rating request that changes nothing; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


Answer = float | str  # a score in [0, 1] (score mode) or "a" / "b" (pairwise)


class RatingQueue:
    """One round of items at a time; answers arrive from any thread, the run waits for the last."""

    def __init__(self) -> None:
        self._done = threading.Condition()
        self.round = 0
        self.stage = "starting"
        self.mode = "score"
        self.items: dict[int, RatingItem] = {}
        self.total = 0
        self._record: Callable[[RatingItem, Answer], None] = lambda item, answer: None
        self.closed = False

    def open_round(self, stage: str, mode: str, items: list[RatingItem],
                   record: Callable[[RatingItem, Answer], None]) -> None:
        """Publish ``items``; ``record(item, answer)`` keeps each answer as it arrives."""
        with self._done:
            self.round += 1
            self.stage, self.mode, self._record = stage, mode, record
            self.items = {item.id: item for item in items}
            self.total = len(items)

    def set_stage(self, stage: str) -> None:
        """Name what the run is doing (shown while nothing waits for a rating)."""
        with self._done:
            self.stage = stage

    def snapshot(self, show_reference: bool) -> dict:
        """What the page shows: the stage, the items left, how many of how many."""
        with self._done:
            items = [] if self.closed else [asdict(item) for item in self.items.values()]
            if not show_reference:
                for item in items:
                    item["reference"] = None
            return {"round": self.round, "stage": self.stage, "mode": self.mode, "items": items,
                    "left": len(items), "total": self.total, "closed": self.closed}

    def answer(self, payload: object) -> int:
        """Apply one rating request (a JSON object); return how many items are left.

        Score mode: ``{"round", "id", "answer": "y" | "n" | "0".."9"}``; pairwise:
        ``{"round", "id", "winner": "a" | "b"}``. Anything else raises :class:`RatingRejected`.
        """
        if not isinstance(payload, dict):
            raise RatingRejected(400, "send a JSON object")
        with self._done:
            if payload.get("round") != self.round or not isinstance(payload.get("id"), int):
                raise RatingRejected(409, "that output is no longer waiting; reload the state")
            item = self.items.get(payload["id"])
            if item is None:
                raise RatingRejected(409, "that output is already rated or not waiting")
            value: Answer | None
            if self.mode == "score":
                answer = payload.get("answer")
                value = parse_answer(answer) if isinstance(answer, str) and len(answer) <= 3 else None
                if value is None:
                    raise RatingRejected(400, "answer must be y, n or a digit 0-9")
            else:
                value = payload.get("winner")
                if value not in ("a", "b"):
                    raise RatingRejected(400, "winner must be a or b")
            self._record(item, value)
            del self.items[item.id]
            if not self.items:
                self._done.notify_all()
            return len(self.items)

    def wait(self, timeout_s: float | None) -> bool:
        """Block until every item of the round is rated; False when ``timeout_s`` passed first
        or the queue was closed."""
        with self._done:
            self._done.wait_for(lambda: not self.items or self.closed, timeout=timeout_s)
            return not self.items and not self.closed

    def close(self) -> None:
        """The run is over: the page says so."""
        with self._done:
            self.closed, self.stage = True, "the run has ended"
            self._done.notify_all()
