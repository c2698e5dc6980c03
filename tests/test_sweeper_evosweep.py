"""`python -m evosweep -m hparams_search=ga_optuna` on tiny-gpt2: 12 trials, killed half-way
(at a kill point) and rerun; the median pruner stops trials from the runner's per-generation reports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import optuna
import yaml

from evosweep.testing_hooks import ENV

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
    # SIGKILLed once trial 6's job returned, before its result is told: 6 trials done, 1 RUNNING
    first = subprocess.run(command, cwd=tmp_path, env={**_env(), ENV: "sweep.job_returned@6"},
                           capture_output=True, text=True, timeout=400)
    assert first.returncode == -signal.SIGKILL, first.stderr[-3000:]
    before = _counts(tmp_path)
    assert before.get("COMPLETE", 0) + before.get("PRUNED", 0) == 6 and before.get("RUNNING") == 1, before

    rerun = subprocess.run(command, cwd=tmp_path, env=_env(), capture_output=True, text=True,
                           timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]

    study = _study(tmp_path)
    trials = study.get_trials(deepcopy=False)
    after = _counts(tmp_path)
    assert after.get("COMPLETE", 0) + after.get("PRUNED", 0) == 12, after
    assert after.get("PRUNED", 0) >= 1, after
    assert after.get("RUNNING", 0) == 0 and after.get("FAIL", 0) == 1 and trials[6].state.name == "FAIL"
    for trial in trials:  # the runner reported every generation it ran
        if trial.state != optuna.trial.TrialState.FAIL:
            assert trial.intermediate_values
    # one folder per trial, named by its number, holding that trial's own job (the killed
    # trial's job ran whole: only its result was lost)
    folders = sorted(p for p in (tmp_path / "multirun").iterdir() if p.is_dir())
    assert sorted(int(p.name) for p in folders) == [t.number for t in trials]
    for folder in folders:
        overrides = (folder / ".hydra" / "overrides.yaml").read_text()
        assert f"++optuna_trial.trial_number={folder.name}\n" in overrides
    results = yaml.safe_load((tmp_path / "multirun" / "optimization_results.yaml").read_text())
    assert results["n_done"] == 12 and "algorithm.mutation_scale" in results["best_params"]
