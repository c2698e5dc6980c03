"""``python -m evosweep.report.ui_links``: direct MLflow UI links to a store's runs tables.

``make ui`` prints these before it starts ``mlflow ui``: one link per experiment,
opening its runs table (``?workflowType=machine_learning`` skips the GenAI landing
page), and one per sweep parent run (tag ``evosweep.role=sweep``), whose trials
are its nested child runs. A store that does not exist yet is not created: one line
says to run something first, and the exit status is 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from evosweep.settings.tracking import DEFAULT_STORE
from evosweep.tracking.store import SQLITE_PREFIX, absolute_store_uri, open_mlflow_client

DEFAULT_UI = "http://127.0.0.1:5000"
SWEEP_FILTER = "tags.`evosweep.role` = 'sweep'"


def experiment_link(ui: str, experiment_id: str) -> str:
    """The experiment's runs table in the MLflow UI."""
    return f"{ui.rstrip('/')}/#/experiments/{experiment_id}?workflowType=machine_learning"


def run_link(ui: str, experiment_id: str, run_id: str) -> str:
    """One run's page in the MLflow UI."""
    return f"{ui.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def missing_store(uri: str, base_dir: Path | None = None) -> Path | None:
    """The sqlite file ``uri`` names when it does not exist yet, else None."""
    if not uri.startswith(SQLITE_PREFIX) or uri == SQLITE_PREFIX + ":memory:":
        return None
    path = Path(uri[len(SQLITE_PREFIX):])
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    return None if path.exists() else path


def _by_id(experiment: Any) -> tuple[int, str]:
    identifier = str(experiment.experiment_id)
    return (int(identifier), identifier) if identifier.isdigit() else (sys.maxsize, identifier)


def link_lines(client: Any, ui: str = DEFAULT_UI) -> list[str]:
    """One line per experiment (oldest first), each followed by its sweep parent runs."""
    lines = []
    for experiment in sorted(client.search_experiments(), key=_by_id):
        experiment_id = str(experiment.experiment_id)
        lines.append(f"{experiment.name}: {experiment_link(ui, experiment_id)}")
        sweeps = client.search_runs([experiment_id], filter_string=SWEEP_FILTER,
                                    order_by=["attributes.start_time ASC"])
        for sweep in sweeps:
            name = sweep.info.run_name or sweep.info.run_id
            lines.append(f"  sweep {name}: {run_link(ui, experiment_id, sweep.info.run_id)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evosweep.report.ui_links",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--tracking-uri", default=DEFAULT_STORE,
                        help=f"MLflow store (default: {DEFAULT_STORE})")
    parser.add_argument("--ui", default=DEFAULT_UI, help=f"where the UI listens (default: {DEFAULT_UI})")
    args = parser.parse_args(argv)
    absent = missing_store(args.tracking_uri)
    if absent is not None:
        print(f"No MLflow store at {absent} yet: run `make demo` or `python -m evosweep` first.")
        return 0
    uri = absolute_store_uri(args.tracking_uri, Path.cwd())
    lines = link_lines(open_mlflow_client(uri), args.ui)
    print(f"MLflow store {uri}; runs tables (open once `mlflow ui` is up):")
    print("\n".join(lines) if lines else "  (no experiments yet)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
