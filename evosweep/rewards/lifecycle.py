"""Rewards that live as long as a run: they keep files in its folder and follow its stages."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class RunScopedReward(Protocol):
    """A reward the run opens before its first evaluation and closes when it ends.

    ``set_stage`` names what the next calls score (``base check``, ``generation 3``,
    ``held-out check after generation 3``); ``close_run`` returns files to keep as
    the run's artifacts.
    """

    def open_run(self, output_dir: Path) -> None: ...

    def set_stage(self, stage: str) -> None: ...

    def close_run(self) -> list[Path]: ...
