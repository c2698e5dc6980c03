"""Group an experiment's runs into configurations and summarise each over its seeds.

A *configuration* is a set of runs whose params agree on every key that varies
across the experiment, seed and bookkeeping keys (tracking, Optuna) excepted.
So a grid launched by any means, an experiment file or plain ``-m`` overrides,
is grouped the same way without tags written by the run. An experiment file may
name its configurations with a top-level ``ablation`` key (e.g.
``ablation: sigma=${algorithm.sigma}``); otherwise a short label is derived.
"""

from __future__ import annotations

import csv
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evosweep.evaluation.measure_labels import MeasureLabel
from evosweep.report.runs import RunRecord
from evosweep.tasks.kinds import all_measure_labels

#: one configuration's CSV/table row: its label, seeds, means and stds, and its differing params
Row = dict[str, Any]

IGNORED_KEYS = {"seed", "resume"}
IGNORED_PREFIXES = ("tracking.", "optuna_trial")
#: Top-level config key an experiment file may set to name each configuration.
LABEL_KEY = "ablation"


@dataclass
class Configuration:
    """One cell of the grid: its label, its differing params and its runs (all seeds)."""

    label: str
    params: dict[str, str | None]
    runs: list[RunRecord] = field(default_factory=list)

    @property
    def complete(self) -> list[RunRecord]:
        """Runs that finished and logged the objective."""
        return [run for run in self.runs if run.problem is None]

    @property
    def seeds(self) -> list[str]:
        return sorted({run.seed for run in self.complete}, key=_seed_order)


def _seed_order(seed: str) -> tuple[int, str]:
    return (int(seed), "") if seed.lstrip("-").isdigit() else (0, seed)


def _ignored(key: str) -> bool:
    """Seeds, tracking and class paths: ``_target_`` moves with the code, not the configuration."""
    return key in IGNORED_KEYS or key.startswith(IGNORED_PREFIXES) or key.rsplit(".", 1)[-1] == "_target_"


def varying_keys(runs: list[RunRecord]) -> list[str]:
    """Param keys whose value differs between runs (a key absent from a run counts as None)."""
    keys = {key for run in runs for key in run.params if not _ignored(key)}
    return sorted(key for key in keys if len({run.params.get(key) for run in runs}) > 1)


def _priority(key: str) -> tuple[int, int, str]:
    leaf = key.rsplit(".", 1)[-1]
    rank = 0 if leaf == "name" else 2 if leaf == "_target_" else 1
    return rank, key.count("."), key


def label_keys(runs: list[RunRecord], keys: list[str]) -> list[str]:
    """A short subset of ``keys`` that still tells every configuration apart.

    Names (``algorithm.name``) come first, ``_target_`` paths last; a key joins only
    if it splits configurations the chosen keys do not.
    """

    def cells(chosen: list[str]) -> int:
        return len({tuple(run.params.get(k) for k in chosen) for run in runs})

    full = cells(keys)
    chosen: list[str] = []
    for key in sorted(keys, key=_priority):
        if cells(chosen) == full:
            break
        if cells(chosen + [key]) > cells(chosen):
            chosen.append(key)
    return chosen


def group_runs(runs: list[RunRecord]) -> tuple[list[Configuration], list[str]]:
    """Configurations in order of their first run, and the keys that vary between them."""
    keys = varying_keys(runs)
    shown = label_keys(runs, keys)
    groups: dict[tuple, Configuration] = {}
    for run in runs:
        cell = tuple(run.params.get(key) for key in keys)
        if cell not in groups:
            label = ", ".join(f"{k}={run.params.get(k, '-')}" for k in shown) or "all runs"
            groups[cell] = Configuration(label, {k: run.params.get(k) for k in keys})
        groups[cell].runs.append(run)
    configurations = list(groups.values())
    named = [config.runs[0].params.get(LABEL_KEY) for config in configurations]
    labels = [name for name in named if name]
    if len(labels) == len(named) and len(set(labels)) == len(labels):
        for config, name in zip(configurations, labels, strict=True):
            config.label = name
    return configurations, keys


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (NaN where undefined)."""
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else math.nan


def summary_rows(configurations: list[Configuration], keys: list[str]) -> list[Row]:
    """One row per configuration: means and stds over its complete runs."""
    rows: list[Row] = []
    for config in configurations:
        runs = config.complete
        final_mean, final_std = mean_std([run.final for run in runs if run.final is not None])
        best_mean, best_std = mean_std([run.fitness_best for run in runs if run.fitness_best is not None])
        base_mean, _ = mean_std([run.base for run in runs if run.base is not None])
        exact_mean, exact_std = mean_std([run.final_exact for run in runs if run.final_exact is not None])
        base_exact, _ = mean_std([run.base_exact for run in runs if run.base_exact is not None])
        walls = [run.wall_s for run in runs if run.wall_s is not None]
        row: Row = {
            "configuration": config.label,
            "n_seeds": len(runs),
            "seeds": " ".join(config.seeds),
            "heldout_final_mean": final_mean,
            "heldout_final_std": final_std,
            "fitness_best_mean": best_mean,
            "fitness_best_std": best_std,
            "heldout_base_mean": base_mean,
            "heldout_exact_final_mean": exact_mean,
            "heldout_exact_final_std": exact_std,
            "heldout_exact_base_mean": base_exact,
            "reward_evals_mean": mean_std([run.reward_evals for run in runs])[0],
            "wall_s_mean": mean_std(walls)[0],
        }
        for name in sorted({name for run in runs for name in run.final_measures}):
            mean, std = mean_std([run.final_measures[name] for run in runs if name in run.final_measures])
            row[f"{MEASURE_PREFIX}{name}_mean"], row[f"{MEASURE_PREFIX}{name}_std"] = mean, std
        row.update({key: config.params.get(key) for key in keys})
        rows.append(row)
    return rows


#: row keys of the held-out answer measures (``heldout_final_<name>_mean`` / ``_std``)
MEASURE_PREFIX = "heldout_final_"


def measures_table(rows: list[Row]) -> str:
    """The final best's held-out answer measures per configuration (mean ± std), or ''."""
    labels = all_measure_labels()
    present = [name for name in labels
               if any(f"{MEASURE_PREFIX}{name}_mean" in row for row in rows)]
    if not present:
        return ""
    lines = ["| configuration | " + " | ".join(labels[n].column for n in present) + " |",
             "|---|" + "---|" * len(present)]
    for row in rows:
        cells = [_measure_cell(row.get(f"{MEASURE_PREFIX}{name}_mean", math.nan),
                               row.get(f"{MEASURE_PREFIX}{name}_std", math.nan), labels[name])
                 for name in present]
        lines.append(f"| `{row['configuration']}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def problems(configurations: list[Configuration]) -> list[str]:
    """Runs left out of the table, and seeds a configuration has no run for at all."""
    lines = []
    every_seed = {run.seed for config in configurations for run in config.runs}
    for config in configurations:
        for run in config.runs:
            if run.problem is not None:
                lines.append(f"`{config.label}` seed {run.seed}: run {run.name} ({run.run_id}) "
                             f"left out, {run.problem}")
        absent = sorted(every_seed - {run.seed for run in config.runs}, key=_seed_order)
        if absent:
            lines.append(f"`{config.label}`: no run at all for seed(s) {', '.join(absent)}")
    return lines


def write_csv(rows: list[Row], path: Path) -> Path:
    """The rows as CSV, full precision (NaN where a value is undefined)."""
    columns = list(rows[0]) if rows else ["configuration"]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _pm(mean: float, std: float, digits: int = 4) -> str:
    if math.isnan(mean):
        return "-"
    return f"{mean:.{digits}f}" if math.isnan(std) else f"{mean:.{digits}f} ± {std:.{digits}f}"


def _measure_cell(mean: float, std: float, label: MeasureLabel) -> str:
    """``mean ± std`` at the label's decimals; a share of answers in percent (``17 ± 12%``)."""
    if not label.share or math.isnan(mean):
        return _pm(mean, std, label.decimals)
    return _pm(100 * mean, 100 * std, label.decimals) + "%"


def _exact(row: Row) -> str:
    """``base% -> mean% ± std%`` of held-out answers exactly right."""
    final, std = row["heldout_exact_final_mean"], row["heldout_exact_final_std"]
    base = row["heldout_exact_base_mean"]
    if math.isnan(final):
        return "-"
    spread = "" if math.isnan(std) else f" ± {100 * std:.0f}"
    start = "-" if math.isnan(base) else f"{100 * base:.0f}%"
    return f"{start} -> {100 * final:.0f}{spread}%"


def markdown_table(rows: list[Row]) -> str:
    """The rows as a Markdown table, ``mean ± std`` over seeds."""
    lines = ["| configuration | seeds (n) | heldout/final | held-out exact (base -> final) "
             "| fitness/best (last gen) | heldout/base | reward evals | wall time (s) |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        cells = [
            f"`{row['configuration']}`",
            f"{row['seeds'] or '-'} ({row['n_seeds']})",
            _pm(row["heldout_final_mean"], row["heldout_final_std"]),
            _exact(row),
            _pm(row["fitness_best_mean"], row["fitness_best_std"]),
            _pm(row["heldout_base_mean"], math.nan),
            _pm(row["reward_evals_mean"], math.nan, 0),
            _pm(row["wall_s_mean"], math.nan, 1),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def configuration_list(configurations: list[Configuration]) -> str:
    """Every differing param a configuration has, so a short label hides nothing."""
    lines = []
    for config in configurations:
        values = ", ".join(f"{k}={v}" for k, v in config.params.items() if v is not None)
        lines.append(f"- `{config.label}`: {values or 'no differing params'}")
    return "\n".join(lines)
