"""The sweep's summary: best trial(s) and state counts, saved as ``optimization_results.yaml``."""

from pathlib import Path
from typing import Any

import optuna
from omegaconf import OmegaConf

from .search_space import SearchSpace, trial_overrides
from .study import count_states, n_done

RESULTS_FILE = "optimization_results.yaml"


def summarize(study: optuna.Study, space: SearchSpace) -> dict[str, Any]:
    """Best params and value (or the Pareto front's solutions) plus per-state trial counts.

    Keys ``name``, ``best_params`` and ``best_value`` match the official plugin's file.
    """
    counts = count_states(study)
    summary: dict[str, Any] = {
        "name": "evosweep_optuna",
        "study_name": study.study_name,
        "directions": [d.name.lower() for d in study.directions],
        "n_done": n_done(counts),
        "states": {state.name: n for state, n in sorted(counts.items(), key=lambda kv: kv[0].value)},
    }
    if len(study.directions) == 1:
        complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if complete:
            best = study.best_trial
            summary.update(
                best_trial=best.number,
                best_params=dict(best.params),
                best_value=best.value,
                best_overrides=trial_overrides(space, best.params),
            )
    else:
        summary["solutions"] = [
            {"number": t.number, "params": dict(t.params), "values": list(t.values)}
            for t in study.best_trials
        ]
    return summary


def save_results(summary: dict[str, Any], sweep_dir: Path) -> Path:
    """Write ``summary`` to ``<sweep_dir>/optimization_results.yaml``; returns the path."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    path = sweep_dir / RESULTS_FILE
    OmegaConf.save(OmegaConf.create(summary), path)
    return path
