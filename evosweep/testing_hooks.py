"""Test-only kill points: a test says exactly where a process dies, not when.

``EVOSWEEP_TEST_KILL_AT=<point>`` or ``<point>@<index>`` makes the process SIGKILL
itself when it reaches ``<point>`` (with that index). Unset (always, outside tests)
a kill point costs one environment lookup and does nothing.

Named points, with the index each passes (without one: how many times this process
reached the point before, from 0):

* ``checkpoint.mid_write``: the new checkpoint written to its temporary file, not yet
  renamed over ``checkpoint.pt``: the previous checkpoint stays
* ``checkpoint.after_write``: the new checkpoint renamed into place
* ``generation.told@<generation>``: a generation evaluated and told to the algorithm,
  before its held-out check and checkpoint (the rerun repeats it)
* ``generation.saved@<generation>``: a generation's checkpoint written, before the
  tracker logs it (the rerun must relog it)
* ``sweep.job_returned@<trial number>``: a trial's job finished, its result not yet
  told to the study (the trial stays RUNNING until the next sweep fails it as stale)

A test in the same process (which cannot SIGKILL itself) sets the variable and
replaces :func:`die`, e.g. with one that raises ``KeyboardInterrupt``; tests/paused_run.py
replaces it with a pause, so a test acts at the point (stops a server) and lets the run go on.
"""

from __future__ import annotations

import os
import signal

ENV = "EVOSWEEP_TEST_KILL_AT"
_reached: dict[str, int] = {}


def kill_point(point: str, index: int | None = None) -> None:
    """SIGKILL this process if ``EVOSWEEP_TEST_KILL_AT`` names ``point`` (and ``index``)."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    if index is None:
        index = _reached.get(point, 0)
        _reached[point] = index + 1
    name, _, at = wanted.partition("@")
    if name == point and (not at or int(at) == index):
        die()


def die() -> None:
    """What a kill point does: SIGKILL this process (no cleanup, no ``finally``)."""
    os.kill(os.getpid(), signal.SIGKILL)
