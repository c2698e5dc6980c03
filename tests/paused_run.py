"""``python tests/paused_run.py OVERRIDES``: ``python -m evosweep`` whose kill point pauses.

At the point ``EVOSWEEP_TEST_KILL_AT`` names, the run writes the file ``EVOSWEEP_TEST_PAUSED``
names and waits until the test deletes it (10 minutes at most: a bound for a test that
died), then goes on: the test acts (e.g. stops a server) at an exact point of the run.
"""

from __future__ import annotations

import os
import runpy
import time
from pathlib import Path

from evosweep import testing_hooks

PAUSED = "EVOSWEEP_TEST_PAUSED"


def pause() -> None:
    """Say the run is here, then wait for the test."""
    marker = Path(os.environ[PAUSED])
    marker.write_text(str(os.getpid()))
    deadline = time.monotonic() + 600
    while marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def wait_until_paused(marker: Path, alive, timeout_s: float = 300) -> None:
    """Until the run writes ``marker``; fails if it ends first (``alive()`` false) or hangs."""
    deadline = time.monotonic() + timeout_s
    while not marker.exists():
        assert alive(), "the run ended before its pause point"
        assert time.monotonic() < deadline, f"no pause within {timeout_s} s"
        time.sleep(0.05)


if __name__ == "__main__":
    testing_hooks.die = pause
    runpy.run_module("evosweep", run_name="__main__", alter_sys=True)
