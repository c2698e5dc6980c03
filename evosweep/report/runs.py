"""Read the runs of one MLflow experiment into plain records for the ablation report."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from evosweep.errors import EvosweepError
from evosweep.settings.tracking import TrackingSettings
from evosweep.tracking.store import absolute_store_uri

#: Tag that marks a report's own summary run; reports never read these back.
REPORT_TAG = "evosweep.report"
#: Tag of an Optuna sweep's parent run (a container of trials, not a trial).
ROLE_TAG = "evosweep.role"
FINAL = "heldout/final"
BEST = "fitness/best"
HELDOUT_BEST = "heldout/best"
BASE = "heldout/base"
FINAL_EXACT = "heldout/final_exact"
BASE_EXACT = "heldout/base_exact"
EVALS = "perf/reward_evals"


class ReportError(EvosweepError, LookupError):
    """The store or experiment to report on cannot be found; the message says what exists."""


@dataclass
class RunRecord:
    """What the report needs from one MLflow run."""

    run_id: str
    name: str
    status: str
    params: dict[str, str]
    tags: dict[str, str]
    wall_s: float | None
    final: float | None
    base: float | None
    reward_evals: float
    final_exact: float | None = None  # share of held-out answers exactly right (text tasks)
    base_exact: float | None = None
    # heldout/final_<name> -> value: answer_words, chrf, kl, format, ... (what the task logs)
    final_measures: dict[str, float] = field(default_factory=dict)
    best_curve: dict[int, float] = field(default_factory=dict)  # step -> fitness/best
    heldout_curve: dict[int, float] = field(default_factory=dict)  # step -> heldout/best

    @property
    def seed(self) -> str:
        return self.params.get("seed", "?")

    @property
    def fitness_best(self) -> float | None:
        """``fitness/best`` at the last generation."""
        return self.best_curve[max(self.best_curve)] if self.best_curve else None

    @property
    def problem(self) -> str | None:
        """Why this run cannot enter the table, or None when it can."""
        if self.status != "FINISHED":
            return f"status {self.status}"
        if self.final is None or math.isnan(self.final):
            return f"no {FINAL} metric"
        return None


def resolve_uri(uri: str | None, environ: dict[str, str]) -> str:
    """``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else the project's default store."""
    chosen = uri or environ.get("MLFLOW_TRACKING_URI") or TrackingSettings().uri
    resolved = absolute_store_uri(chosen)
    prefix = "sqlite:///"
    if resolved.startswith(prefix) and not Path(resolved[len(prefix):]).is_file():
        raise ReportError(f"no MLflow store at {resolved[len(prefix):]}; run an experiment first "
                          "or pass --tracking-uri")
    return resolved


def find_experiment(client, name: str) -> str:
    """The id of experiment ``name``; an unknown name lists the existing ones."""
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        names = sorted(e.name for e in client.search_experiments())
        known = ", ".join(names) if names else "(none)"
        raise ReportError(f"no MLflow experiment named {name!r}; existing experiments: {known}")
    return experiment.experiment_id


def _curve(client, run_id: str, key: str) -> dict[int, float]:
    return {m.step: m.value for m in client.get_metric_history(run_id, key)}


def _record(client, run) -> RunRecord:
    info, data = run.info, run.data
    wall = (info.end_time - info.start_time) / 1000 if info.end_time and info.start_time else None
    evals = client.get_metric_history(info.run_id, EVALS)
    return RunRecord(
        run_id=info.run_id,
        name=info.run_name or info.run_id[:8],
        status=info.status,
        params=dict(data.params),
        tags=dict(data.tags),
        wall_s=wall,
        final=data.metrics.get(FINAL),
        base=data.metrics.get(BASE),
        final_exact=data.metrics.get(FINAL_EXACT),
        base_exact=data.metrics.get(BASE_EXACT),
        reward_evals=float(sum(m.value for m in evals)),
        final_measures={key[len(FINAL) + 1:]: value for key, value in data.metrics.items()
                        if key.startswith(FINAL + "_") and key != FINAL_EXACT},
        best_curve=_curve(client, info.run_id, BEST),
        heldout_curve=_curve(client, info.run_id, HELDOUT_BEST),
    )


def load_runs(client, experiment_id: str) -> list[RunRecord]:
    """Every run of the experiment, oldest first, except reports' summary runs and sweep parents."""
    runs, token = [], None
    while True:
        page = client.search_runs([experiment_id], order_by=["attributes.start_time ASC"],
                                  max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    kept = [run for run in runs
            if run.data.tags.get(REPORT_TAG) != "true" and run.data.tags.get(ROLE_TAG) != "sweep"]
    return [_record(client, run) for run in kept]
