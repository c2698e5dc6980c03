"""Toy Hydra app for the sweeper tests: a noisy-free sphere with per-step reports.

Each step's value shrinks toward ``x**2 + y**2`` so that the median pruner can stop
trials whose early steps are already worse than the others'.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import hydra
import optuna
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from evosweep.sweep.pruning import TrialReporter


def objective(x: float, y: float, step: int) -> float:
    """The sphere, plus a bonus that fades with the step."""
    return float(x) ** 2 + float(y) ** 2 + 1.0 / (step + 1)


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float | list[float]:
    """Report ``cfg.steps`` values, then return the last (or two values for 2 objectives)."""
    out = Path(HydraConfig.get().runtime.output_dir)
    with open(out / "runs.txt", "a") as handle:  # one line per run: >1 means overwritten
        handle.write(f"pid={os.getpid()} trial={cfg.get('optuna_trial')}\n")
    with open(Path(cfg.log_dir) / "events.txt", "a") as handle:
        handle.write(f"start {time.time():.3f} {HydraConfig.get().job.num}\n")
    reporter = TrialReporter.from_config(cfg.get("optuna_trial"))
    child = _start_child_run(cfg) if cfg.mlflow_child else None
    num = HydraConfig.get().job.num
    pause = cfg.sleep_by_num[num % len(cfg.sleep_by_num)] if cfg.sleep_by_num else cfg.sleep
    value = 0.0
    for step in range(cfg.steps):
        value = objective(cfg.x, cfg.y, step)
        time.sleep(pause)
        if reporter is not None:
            reporter.report(step, value)
    if cfg.hold and num == cfg.hold[0]:
        _wait_for_start(Path(cfg.log_dir) / "events.txt", cfg.hold[1])
    if num in cfg.crash_nums:  # the job's process dies: no result, no finished MLflow run
        os.kill(os.getpid(), signal.SIGKILL)
    if cfg.fail or num in cfg.fail_nums:
        raise RuntimeError("asked to fail")
    with open(Path(cfg.log_dir) / "events.txt", "a") as handle:
        handle.write(f"end {time.time():.3f} {HydraConfig.get().job.num}\n")
    if child is not None:
        child[0].set_terminated(child[1])
    if cfg.n_objectives == 2:
        return [value, abs(float(cfg.x) - 1.0)]
    return value


def _wait_for_start(events: Path, num: int, timeout_s: float = 120) -> None:
    """Until job ``num`` has started (a line of ``events``); at the bound, a ``held-too-long``
    line (the jobs ran in lockstep, or in one process after the other)."""
    deadline = time.monotonic() + timeout_s
    while not any(line.split()[0::2] == ["start", str(num)] for line in events.read_text().splitlines()):
        if time.monotonic() > deadline:
            with open(events, "a") as handle:
                handle.write(f"held-too-long {time.time():.3f} {num}\n")
            return
        time.sleep(0.05)


def widen_y(cfg: DictConfig, trial: optuna.trial.Trial) -> None:
    """A ``custom_search_space``: one more parameter, ``+z``, bounded by the sampled x."""
    x = trial.params["x"]
    trial.suggest_float("+z", x - 1.0, x + 1.0)


def _start_child_run(cfg: DictConfig) -> tuple:
    """Like evosweep's tracker: the job's own MLflow run, a child of the sweep's parent run."""
    from mlflow import MlflowClient

    trial = cfg.optuna_trial
    client = MlflowClient(tracking_uri=str(cfg.tracking.uri))
    experiment = client.get_experiment_by_name(cfg.tracking.experiment)
    run = client.create_run(experiment.experiment_id, tags={
        "mlflow.parentRunId": str(trial.mlflow_parent_run_id),
        "optuna.trial_number": str(trial.trial_number),
        "evosweep.role": "job",
    })
    return client, run.info.run_id


if __name__ == "__main__":
    main()
