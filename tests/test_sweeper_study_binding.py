"""A study is bound to the model, task and reward it searched: resuming it on another is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna


def _sweep(cwd: Path, *overrides: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "evosweep", "-m", "hparams_search=ga_optuna", "tracking=none",
               "algorithm.generations=1", "algorithm.population_size=4", "algorithm.elite=1",
               "hydra.sweeper.n_trials=1", "hydra.sweeper.study_name=bound",
               "hydra.sweep.dir=multirun", *overrides]
    return subprocess.run(command, cwd=cwd, env={**os.environ, "OMP_NUM_THREADS": "1"},
                          capture_output=True, text=True, timeout=300)


def test_a_study_refuses_to_resume_on_another_model(tmp_path: Path) -> None:
    first = _sweep(tmp_path, "model=tiny-gpt2", "task=bonjour")
    assert first.returncode == 0, first.stderr[-3000:]
    study = optuna.load_study(study_name="bound", storage=f"sqlite:///{tmp_path / 'outputs' / 'optuna.db'}")
    searched = study.user_attrs["evosweep.searched_on"]
    assert searched["task"] == "bonjour" and "tiny-gpt2" in searched["model"]
    assert searched["reward"] == "likelihood"

    other = _sweep(tmp_path, "model=tiny-llama", "task=bonjour", "hydra.sweeper.n_trials=2")
    assert other.returncode != 0
    [line] = [line for line in other.stderr.splitlines() if line.startswith("hydra.sweeper.study_name:")]
    assert "'builtin:tiny-gpt2' -> 'builtin:tiny-llama'" in line, other.stderr[-2000:]
    assert "Traceback" not in other.stderr
    assert len(study.get_trials(deepcopy=False)) == 1  # nothing ran on the other model
