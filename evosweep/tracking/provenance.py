"""Where a run came from, as MLflow tags and a readable run name.

``evosweep.git_commit`` and ``evosweep.git_dirty`` name the code that ran (the checkout
holding this package; ``unknown`` outside git), ``evosweep.command`` the command line.
A table made from runs can then cite the commit and command that reproduce it.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

CODE_ROOT = Path(__file__).resolve().parents[2]
UNKNOWN = "unknown"


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(CODE_ROOT), *args], capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def command_line(argv: list[str] | None = None) -> str:
    """This process's command, ``python -m evosweep ...`` when it was started that way."""
    argv = list(sys.argv if argv is None else argv)
    if argv and Path(argv[0]).name == "__main__.py" and Path(argv[0]).parent.name == "evosweep":
        argv = ["python", "-m", "evosweep", *argv[1:]]
    return " ".join(shlex.quote(arg) for arg in argv)


def provenance_tags() -> dict[str, str]:
    """``evosweep.git_commit``, ``evosweep.git_dirty`` (tracked files changed) and ``evosweep.command``."""
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {
        "evosweep.git_commit": commit or UNKNOWN,
        "evosweep.git_dirty": UNKNOWN if status is None else str(bool(status)).lower(),
        "evosweep.command": command_line()[:5000],
    }


def default_run_name(algorithm: str, task: str, seed: int) -> str:
    """A run's name when ``tracking.run_name`` is unset: ``es-fr_en-s0``."""
    return f"{algorithm}-{task}-s{seed}"
