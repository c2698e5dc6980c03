"""hparams_search=es_optuna: the sweeper searches ES's own hyperparameters (tiny model, 3 trials)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna

ES_KEYS = {"algorithm.sigma", "algorithm.learning_rate", "algorithm.population_size", "task.minibatch",
           "model.lora.r", "model.lora.layers"}


def test_es_optuna_searches_es_settings_on_a_tiny_model(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "evosweep", "-m", "hparams_search=es_optuna", "model=tiny-llama",
        "task=bonjour", "tracking=none", "time_limit_s=null", "algorithm.generations=3",
        # the tiny model has 2 layers and takes small populations
        "model.lora.layers=choice(1, 2)", "algorithm.population_size=choice(4, 8)",
        "task.minibatch=choice(1, 2)", "hydra.sweeper.n_trials=3", "hydra.sweep.dir=multirun",
    ]
    done = subprocess.run(command, cwd=tmp_path, env={**os.environ, "OMP_NUM_THREADS": "1"},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    storage = f"sqlite:///{tmp_path / 'outputs' / 'optuna.db'}"
    study = optuna.load_study(study_name="es_optuna", storage=storage)
    finished = [trial for trial in study.trials if trial.state == optuna.trial.TrialState.COMPLETE]
    assert len(finished) == 3
    assert set(study.best_trial.params) == ES_KEYS
    assert all(trial.params["model.lora.layers"] in (1, 2) for trial in finished)


def test_es_optuna_trials_get_its_cpu_budget(compose_config) -> None:
    """The search's own top-level keys win over config.yaml's (a trial ran 2 h once without)."""
    cfg = compose_config(["hparams_search=es_optuna"])
    assert cfg.time_limit_s == 90 and cfg.time_limit_clock == "cpu"
    assert cfg.algorithm.evolve == "lora_b" and cfg.eval.heldout_every == 3
    plain = compose_config([])
    assert plain.time_limit_s is None and plain.time_limit_clock == "wall"
