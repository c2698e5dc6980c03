"""`python -m evosweep -m hparams_search=ga_optuna` on tiny-gpt2: 12 trials, killed half-way
and rerun; the median pruner stops trials from the runner's per-generation reports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import yaml

CONF = Path(__file__).resolve().parent.parent / "conf"
STUDY = "tiny-ga"


def _group_choice(group: str, wanted: list[str], needs: str = "") -> str:
    """``choice(...)`` of the wanted options that exist (and have the field ``needs``)."""
    present = []
    for name in wanted:
        path = CONF / group / f"{name}.yaml"
        if path.exists() and (not needs or needs in (yaml.safe_load(path.read_text()) or {})):
            present.append(name)
    return f"{group}=choice({', '.join(present)})"


def _sweep_command() -> list[str]:
    defaults = yaml.safe_load((CONF / "config.yaml").read_text())["defaults"]
    listed = any(isinstance(d, dict) and "hparams_search" in d for d in defaults)
    return [
        sys.executable, "-m", "evosweep", "-m",
        ("" if listed else "+") + "hparams_search=ga_optuna",
        "model=tiny-gpt2", "task=bonjour", "tracking=none", "algorithm.generations=4",
        _group_choice("schedule", ["constant", "linear", "cosine"]),
        # ga_optuna also searches operators.crossover.rate: only options with a rate compose
        _group_choice("operators/crossover", ["uniform", "arithmetic", "none"], needs="rate"),
        "hydra.sweeper.n_trials=12", f"hydra.sweeper.study_name={STUDY}",
        "hydra.sweeper.pruner={name: median, n_startup_trials: 2, n_warmup_steps: 1}",
        "hydra.sweeper.heartbeat_interval=1", "hydra.sweeper.grace_period=2",
        "hydra.sweep.dir=multirun",  # the same folder for both runs: nothing may be overwritten
    ]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _study(cwd: Path) -> optuna.Study:
    return optuna.load_study(study_name=STUDY, storage=f"sqlite:///{cwd / 'outputs' / 'optuna.db'}")


def _counts(cwd: Path) -> dict[str, int]:
    try:
        trials = _study(cwd).get_trials(deepcopy=False)
    except Exception:  # not created yet
        return {}
    out: dict[str, int] = {}
    for trial in trials:
        out[trial.state.name] = out.get(trial.state.name, 0) + 1
    return out


def test_tiny_gpt2_sweep_killed_and_resumed(tmp_path: Path) -> None:
    command = _sweep_command()
    with open(tmp_path / "first.log", "wb") as log:
        proc = subprocess.Popen(command, cwd=tmp_path, env=_env(), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 400  # generous: CI machines can be loaded
            while time.monotonic() < deadline and proc.poll() is None:
                counts = _counts(tmp_path)
                if counts.get("COMPLETE", 0) + counts.get("PRUNED", 0) >= 6:
                    break
                time.sleep(0.2)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    before = _counts(tmp_path)
    assert 6 <= before.get("COMPLETE", 0) + before.get("PRUNED", 0) < 12, (
        before, (tmp_path / "first.log").read_text()[-3000:])

    rerun = subprocess.run(command, cwd=tmp_path, env=_env(), capture_output=True, text=True,
                           timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]

    study = _study(tmp_path)
    trials = study.get_trials(deepcopy=False)
    after = _counts(tmp_path)
    assert after.get("COMPLETE", 0) + after.get("PRUNED", 0) == 12, after
    assert after.get("PRUNED", 0) >= 1, after
    assert after.get("RUNNING", 0) == 0 and after.get("FAIL", 0) == before.get("RUNNING", 0)
    for trial in trials:  # the runner reported every generation it ran
        if trial.state != optuna.trial.TrialState.FAIL:
            assert trial.intermediate_values
    # one folder per launched trial, named by its number, holding that trial's own job
    # (a trial killed before its job started has none, or a folder the kill caught half made)
    folders = sorted(p for p in (tmp_path / "multirun").iterdir() if p.is_dir())
    done = {t.number for t in trials if t.state != optuna.trial.TrialState.FAIL}
    assert done <= {int(p.name) for p in folders} <= {t.number for t in trials}
    for folder in folders:
        if int(folder.name) not in done and not (folder / ".hydra" / "overrides.yaml").exists():
            continue
        overrides = (folder / ".hydra" / "overrides.yaml").read_text()
        assert f"++optuna_trial.trial_number={folder.name}\n" in overrides
    results = yaml.safe_load((tmp_path / "multirun" / "optimization_results.yaml").read_text())
    assert results["n_done"] == 12 and "algorithm.mutation_scale" in results["best_params"]
