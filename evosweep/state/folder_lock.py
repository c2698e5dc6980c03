"""One run per output folder: a run that starts in a folder another live run writes stops at once.

Two runs in one folder overwrite each other's checkpoint, adapters and summary without
a sign; it happens when two ``-m`` sweeps of one experiment start in the same second,
since Hydra names sweep folders by the time. The lock is ``flock`` on a file in the
folder: the kernel drops it when its process ends, however it ends, so a killed run
leaves nothing that blocks its own resume.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evosweep.errors import ConfigError

LOCK_NAME = ".evosweep.lock"


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s lock while the block runs; a ConfigError if another run holds it."""
    handle = open(Path(folder) / LOCK_NAME, "a+")  # noqa: SIM115 (held until the block ends)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise ConfigError("hydra.run.dir", (
            f"{folder} is being written by another run ({holder}); give this run its own folder "
            "(hydra.run.dir=..., or hydra.sweep.dir=... for a -m sweep: two sweeps started in the "
            "same second share Hydra's timestamped folder)")) from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
