"""Continue a checkpointed run in the same tracker run without logging anything twice.

The run loop saves each generation's checkpoint *before* it logs that
generation's metrics, so a kill can only leave the tracker behind the
checkpoint, never ahead of it; :func:`relog_missing` fills the gap.
"""

from __future__ import annotations

from typing import Any


def without_generation(row: dict[str, float]) -> dict[str, float]:
    """A history row without its ``generation`` key (the tracker's step)."""
    return {key: value for key, value in row.items() if key != "generation"}


def without_rl_step(row: dict[str, float]) -> dict[str, float]:
    """A per-RL-step row without its ``rl/step`` key (the tracker's step)."""
    return {key: value for key, value in row.items() if key != "rl/step"}


def log_generation(tracker: Any, row: dict[str, float], steps: list[dict[str, float]]) -> None:
    """Log one generation's metrics (step = generation) and its RL steps (step = rl/step)."""
    tracker.log_metrics(without_generation(row), step=int(row["generation"]))
    for step in steps:
        tracker.log_metrics(without_rl_step(step), step=int(step["rl/step"]))


def relog_missing(tracker: Any, checkpoint: dict[str, Any]) -> int:
    """Log the checkpointed metrics the tracker lacks; return how many rows were re-logged."""
    relogged = 0
    if 0 not in tracker.logged_steps("heldout/base"):
        tracker.log_metrics(checkpoint["base"], step=0)
        relogged += 1
    done = tracker.logged_steps("fitness/best")
    for row in checkpoint["history"]:
        if int(row["generation"]) not in done:
            tracker.log_metrics(without_generation(row), step=int(row["generation"]))
            relogged += 1
    done_steps = tracker.logged_steps("rl/loss")
    for step in checkpoint.get("rl_history", []):
        if int(step["rl/step"]) not in done_steps:
            tracker.log_metrics(without_rl_step(step), step=int(step["rl/step"]))
            relogged += 1
    return relogged
