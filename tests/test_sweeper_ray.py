"""`hydra/launcher=ray`: trials as Ray tasks on a local Ray the sweep starts and stops.

A job that raises and a job whose worker process is killed both end FAIL, in Optuna and
in MLflow, while the other trials run on and COMPLETE (hydra-ray-launcher's batch
``ray.get`` would have dropped them).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from sweeper_app.harness import load_study, run_app

# a Ray started by the sweep: 2 CPUs (one per trial), a small object store, no dashboard
LOCAL_RAY = (
    "hydra/launcher=ray",
    "hydra.launcher.ray.init.num_cpus=2",
    "hydra.launcher.ray.init.object_store_memory=80000000",
)


def test_failed_and_lost_jobs_end_fail_and_the_others_complete(tmp_path: Path) -> None:
    from mlflow import MlflowClient

    proc = run_app(
        tmp_path, *LOCAL_RAY, "hydra.sweeper.n_jobs=2", "hydra.sweeper.n_trials=2",
        "hydra.sweeper.max_failure_rate=1.0", "fail_nums=[1]", "crash_nums=[2]",
        "tracking.enabled=true", "mlflow_child=true", "steps=2", f"log_dir={tmp_path}", timeout=240,
    )
    study = load_study(tmp_path)
    by_number = {t.number: t.state.name for t in study.trials}
    assert by_number[1] == by_number[2] == "FAIL"
    assert sorted(by_number.values()) == ["COMPLETE"] * 2 + ["FAIL"] * 2
    assert "was lost on Ray: " in proc.stdout + proc.stderr  # the killed worker's trial, in one line
    assert all(len(t.intermediate_values) == 2 for t in study.trials if t.state.name == "COMPLETE")

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("toy")
    children = {int(r.data.tags["optuna.trial_number"]): r
                for r in client.search_runs([experiment.experiment_id])
                if r.data.tags.get("evosweep.role") == "job"}
    assert set(children) == set(by_number)
    for number, state in by_number.items():  # none left RUNNING by a job that died
        assert children[number].data.tags["optuna.state"] == state
        assert children[number].info.status == ("FINISHED" if state == "COMPLETE" else "FAILED")


def test_joining_a_cluster_with_a_local_size_is_one_line(tmp_path: Path) -> None:
    """hydra-ray-launcher's 75 MiB object store broke address=auto; here a size is an error."""
    proc = run_app(tmp_path, "hydra/launcher=ray", "hydra.launcher.ray.init.address=auto",
                   "hydra.launcher.ray.init.object_store_memory=80000000", "hydra.sweeper.n_trials=1",
                   check=False, timeout=120)
    assert proc.returncode != 0
    assert ("hydra.launcher.ray.init.object_store_memory: sizes a Ray started here, "
            "but address=auto joins a running cluster") in proc.stderr
    assert "Traceback" not in proc.stderr



@pytest.mark.slow  # about a minute on 2 shared cores
def test_an_evosweep_sweep_on_ray_fails_only_the_trial_that_raises(tmp_path: Path) -> None:
    """4 trials of the tiny model through hydra/launcher=ray; elite=99 is rejected at run time."""
    from mlflow import MlflowClient

    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "evosweep", "-m", "hparams_search=ga_optuna", *LOCAL_RAY,
         "hydra.sweeper.n_jobs=2", "hydra.sweeper.n_trials=3", "hydra.sweeper.max_failure_rate=0.5",
         "hydra/sweeper/sampler=grid", "algorithm.elite=choice(1,2,3,99)", "algorithm.population_size=4",
         "algorithm.mutation_scale=0.02", "schedule=constant", "operators/crossover=uniform",
         "operators.crossover.rate=0.9", "hydra.sweeper.pruner=null", "model=tiny-gpt2", "task=bonjour",
         "algorithm.generations=2", "eval.max_new_tokens=4"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    storage = f"sqlite:///{tmp_path / 'outputs' / 'optuna.db'}"
    study = optuna.load_study(study_name="evosweep", storage=storage)
    states = {t.params["algorithm.elite"]: t.state.name for t in study.trials}
    assert states == {1: "COMPLETE", 2: "COMPLETE", 3: "COMPLETE", 99: "FAIL"}
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("evosweep").experiment_id])
    trials = [r for r in runs if r.data.tags.get("evosweep.role") != "sweep"]
    assert sorted(r.data.tags["optuna.state"] for r in trials) == ["COMPLETE"] * 3 + ["FAIL"]
    assert all(r.info.status != "RUNNING" for r in runs)
