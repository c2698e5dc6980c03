"""``python -m evosweep.report EXPERIMENT``: one MLflow experiment -> a table and a plot.

Reads every run of the experiment, groups them into configurations (params that
differ, seed aside), and writes ``report.md``, ``report.csv`` and
``fitness_curves.png`` into ``outputs/reports/<experiment>/<time>/``; the same
files become artifacts of a summary run in the experiment, tagged
``evosweep.report=true`` (later reports skip it). Runs that failed, are still
running, or lack ``heldout/final`` are listed, never silently dropped.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from evosweep.errors import EvosweepError
from evosweep.report.docs_block import render_block, write_block
from evosweep.report.plots import plot_curves
from evosweep.report.runs import REPORT_TAG, find_experiment, load_runs, resolve_uri
from evosweep.report.table import (
    configuration_list,
    group_runs,
    markdown_table,
    measures_table,
    problems,
    summary_rows,
    write_csv,
)


@dataclass
class ReportFiles:
    """Where a report went: its folder, the three files and the summary run's id."""

    folder: Path
    markdown: Path
    csv: Path
    plot: Path
    run_id: str | None


def _markdown(experiment: str, uri: str, table: str, configs: str, issues: list[str], n_runs: int,
              answers: str = "") -> str:
    missing = "\n".join(f"- {line}" for line in issues) if issues else "None: every run finished."
    if answers:
        answers = f"\n\n## Held-out answers of the final best\n\n{answers}"
    return (
        f"# Report: {experiment}\n\n"
        f"Store `{uri}`, {n_runs} runs, written {time.strftime('%Y-%m-%d %H:%M:%S %Z')}.\n"
        "Values are mean ± sample std over the seeds of each configuration; reward evals are\n"
        "the total per run (sum of `perf/reward_evals`), wall time is run end minus start.\n\n"
        f"{table}{answers}\n\n## Configurations\n\n{configs}\n\n## Missing or failed runs\n\n{missing}\n"
    )


def build_report(experiment: str, tracking_uri: str | None = None, output_dir: Path | None = None,
                 log_to_mlflow: bool = True, into: Path | None = None) -> ReportFiles:
    """Write the report of ``experiment`` and (by default) log it as a summary MLflow run;
    ``into``: also rewrite the experiment's marked block of that docs page."""
    from mlflow.tracking import MlflowClient

    uri = resolve_uri(tracking_uri, dict(os.environ))
    client = MlflowClient(tracking_uri=uri)
    experiment_id = find_experiment(client, experiment)
    runs = load_runs(client, experiment_id)
    if not runs:
        raise EvosweepError(f"experiment {experiment!r} has no runs to report on")
    configurations, keys = group_runs(runs)
    rows = summary_rows(configurations, keys)
    folder = Path(output_dir or Path("outputs/reports") / experiment / time.strftime("%Y-%m-%d_%H-%M-%S"))
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = write_csv(rows, folder / "report.csv")
    plot = plot_curves(configurations, folder / "fitness_curves.png", experiment)
    text = _markdown(experiment, uri, markdown_table(rows), configuration_list(configurations),
                     problems(configurations), len(runs), measures_table(rows))
    markdown = folder / "report.md"
    markdown.write_text(text + "\n![fitness curves](fitness_curves.png)\n")
    if into is not None:
        write_block(into, experiment, render_block(experiment, runs, configurations, rows, str(into)))
    run_id = None
    if log_to_mlflow:
        run = client.create_run(experiment_id, run_name=f"report-{folder.name}",
                                tags={REPORT_TAG: "true", "evosweep.output_dir": str(folder.resolve())})
        run_id = run.info.run_id
        for path in (markdown, csv_path, plot):
            client.log_artifact(run_id, str(path), "report")
        client.set_terminated(run_id, status="FINISHED")
    return ReportFiles(folder, markdown, csv_path, plot, run_id)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m evosweep.report", description=__doc__.splitlines()[0])
    parser.add_argument("experiment", help="MLflow experiment name (tracking.experiment of the runs)")
    parser.add_argument("--tracking-uri", default=None,
                        help="MLflow store (default: $MLFLOW_TRACKING_URI, else sqlite:///outputs/mlflow.db)")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="folder for the files (default: outputs/reports/EXPERIMENT/TIME)")
    parser.add_argument("--no-mlflow-run", action="store_true",
                        help="write the files only; log no summary run")
    parser.add_argument("--into", type=Path, default=None, metavar="PAGE",
                        help="also rewrite the experiment's marked block in this docs page "
                             "(<!-- evosweep:report experiment=NAME --> ... <!-- /evosweep:report -->)")
    args = parser.parse_args(argv)
    try:
        files = build_report(args.experiment, args.tracking_uri, args.output_dir, not args.no_mlflow_run,
                             args.into)
    except EvosweepError as error:
        print(f"evosweep.report: error: {error}", file=sys.stderr)
        return 2
    print(files.markdown.read_text())
    print(f"wrote {files.markdown}, {files.csv.name}, {files.plot.name}"
          + (f"; summary run {files.run_id}" if files.run_id else "")
          + (f"; the block in {args.into}" if args.into else ""))
    return 0
