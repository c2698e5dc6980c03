"""``python -m evosweep.report.ui_links``: the links ``make ui`` prints, on a store written by hand."""

from __future__ import annotations

from evosweep.report.ui_links import main
from evosweep.tracking.store import open_mlflow_client

UI = "http://127.0.0.1:5000"


def test_prints_runs_table_links_and_sweep_parents(tmp_path, capsys):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = open_mlflow_client(uri)
    experiment_id = client.create_experiment("demo", artifact_location=(tmp_path / "art").as_uri())
    parent = client.create_run(experiment_id, run_name="sweep-demo", tags={"evosweep.role": "sweep"})
    client.create_run(experiment_id, run_name="trial-0", tags={"mlflow.parentRunId": parent.info.run_id})
    client.create_run(experiment_id, run_name="plain")

    assert main(["--tracking-uri", uri]) == 0
    out = capsys.readouterr().out
    assert f"demo: {UI}/#/experiments/{experiment_id}?workflowType=machine_learning" in out
    assert f"  sweep sweep-demo: {UI}/#/experiments/{experiment_id}/runs/{parent.info.run_id}" in out
    assert out.count("/runs/") == 1  # trials and plain runs are reached through the table


def test_missing_store_prints_one_line_and_creates_nothing(tmp_path, capsys):
    store = tmp_path / "outputs" / "mlflow.db"
    assert main(["--tracking-uri", f"sqlite:///{store}"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "run `make demo`" in out
    assert not store.parent.exists()
