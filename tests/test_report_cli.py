"""``python -m evosweep.report`` on a store written by hand (no model): files, summary run, errors."""

from __future__ import annotations

import csv

import pytest
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

from evosweep.report.cli import build_report, main
from evosweep.report.runs import ReportError


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """Experiment ``hand``: two seeds of sigma=1, one of sigma=2, one still RUNNING."""
    tmp_path = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = MlflowClient(uri)
    experiment_id = client.create_experiment("hand", artifact_location=(tmp_path / "art").as_uri())
    for seed, sigma, final, status in ((0, "1", 0.5, "FINISHED"), (1, "1", 0.7, "FINISHED"),
                                       (0, "2", 0.2, "FINISHED"), (1, "2", None, "RUNNING")):
        run_id = client.create_run(experiment_id, run_name=f"s{sigma}-{seed}").info.run_id
        metrics = [Metric("fitness/best", float(step + seed), 0, step) for step in range(3)]
        metrics += [Metric("perf/reward_evals", 8.0, 0, step) for step in range(3)]
        if final is not None:
            metrics.append(Metric("heldout/final", final, 0, 3))
        params = [Param("seed", str(seed)), Param("algorithm.sigma", sigma)]
        client.log_batch(run_id, metrics=metrics, params=params)
        if status == "FINISHED":
            client.set_terminated(run_id, status)
    return uri


def test_cli_writes_table_plot_and_a_summary_run(store, tmp_path, capsys):
    assert main(["hand", "--tracking-uri", store, "--output-dir", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "| `algorithm.sigma=1` | 0 1 (2) | 0.6000 ± 0.1414 | - | 2.5000 ± 0.7071 |" in out
    assert "`algorithm.sigma=2` seed 1: run s2-1" in out and "status RUNNING" in out
    with open(tmp_path / "out" / "report.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["algorithm.sigma"] for row in rows] == ["1", "2"]
    assert float(rows[0]["reward_evals_mean"]) == 24.0
    assert (tmp_path / "out" / "fitness_curves.png").stat().st_size > 10_000

    client = MlflowClient(store)
    experiment_id = client.get_experiment_by_name("hand").experiment_id
    (summary,) = client.search_runs([experiment_id], "tags.`evosweep.report` = 'true'")
    assert {a.path for a in client.list_artifacts(summary.info.run_id, "report")} == {
        "report/report.md", "report/report.csv", "report/fitness_curves.png"}
    again = build_report("hand", store, tmp_path / "again", log_to_mlflow=False)
    assert "4 runs" in again.markdown.read_text()  # the summary run is not read back


def test_unknown_experiment_lists_the_existing_ones(store, capsys):
    with pytest.raises(ReportError, match="existing experiments: Default, hand"):
        build_report("nope", store, log_to_mlflow=False)
    assert main(["nope", "--tracking-uri", store]) == 2
    assert "no MLflow experiment named 'nope'" in capsys.readouterr().err


def test_environment_store_is_used_and_a_missing_one_is_named(store, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    assert build_report("hand", output_dir=tmp_path / "env", log_to_mlflow=False).run_id is None
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/absent.db")
    with pytest.raises(ReportError, match="no MLflow store at .*absent.db"):
        build_report("hand")
