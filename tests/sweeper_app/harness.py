"""Run the toy app (``app.py``) as a subprocess and read back its Optuna study."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna

APP = Path(__file__).resolve().with_name("app.py")
STUDY = "sphere"  # the toy config's study_name


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.pop("HYDRA_FULL_ERROR", None)
    return env


def run_app(cwd: Path, *overrides: str, timeout: float = 120, check: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python app.py -m overrides...`` in ``cwd`` (``env``: variables added); raises with its
    output when it fails."""
    proc = subprocess.run(
        [sys.executable, str(APP), "-m", *overrides], cwd=cwd, env={**_env(), **(env or {})},
        capture_output=True, text=True, timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"app failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def start_app(cwd: Path, *overrides: str, log_name: str = "sweep.log") -> subprocess.Popen[bytes]:
    """The same command in the background, in its own process group (to kill it whole)."""
    log = open(cwd / log_name, "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, str(APP), "-m", *overrides], cwd=cwd, env=_env(),
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def storage_url(cwd: Path) -> str:
    """The default storage of a sweep run in ``cwd``."""
    return f"sqlite:///{cwd / 'outputs' / 'optuna.db'}"


def load_study(cwd: Path, name: str = STUDY) -> optuna.Study:
    """The study a sweep in ``cwd`` wrote."""
    return optuna.load_study(study_name=name, storage=storage_url(cwd))


def states(study: optuna.Study) -> dict[str, int]:
    """Trial counts per state name."""
    out: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        out[trial.state.name] = out.get(trial.state.name, 0) + 1
    return out
