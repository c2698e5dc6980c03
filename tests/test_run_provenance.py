"""Every tracked run records the commit, dirty flag and command it came from, under a readable name."""

from __future__ import annotations

import json
import subprocess

from conftest import TINY_RUN
from mlflow.tracking import MlflowClient

from evosweep.run import run
from evosweep.tasks.pairs import Pair
from evosweep.tasks.task import Task
from evosweep.tracking.datasets import task_datasets
from evosweep.tracking.provenance import CODE_ROOT, command_line, default_run_name


def _tracked_run(compose_config, tmp_path, *extra: str):
    """Run the tiny GA with tracking to a fresh sqlite store; its one MLflow run."""
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    overrides = [o for o in TINY_RUN if o != "tracking=none"] + [
        "tracking=mlflow", f"tracking.uri={uri}", "tracking.experiment=t",
        f"tracking.artifact_location={tmp_path}/artifacts", *extra]
    run(compose_config(overrides), tmp_path / "run")
    client = MlflowClient(uri)
    (mlrun,) = client.search_runs([client.get_experiment_by_name("t").experiment_id])
    return mlrun


def test_a_run_is_named_and_tagged_with_its_commit_and_command(compose_config, tmp_path):
    mlrun = _tracked_run(compose_config, tmp_path, "seed=5")
    assert mlrun.info.run_name == "ga-bonjour-s5"
    tags = mlrun.data.tags
    head = subprocess.run(["git", "-C", str(CODE_ROOT), "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    assert tags["evosweep.git_commit"] == (head or "unknown")
    assert tags["evosweep.git_dirty"] in ("true", "false", "unknown")
    assert tags["evosweep.command"]
    inputs = {d.dataset.name: d for d in mlrun.inputs.dataset_inputs}
    assert set(inputs) == {"bonjour-train", "bonjour-heldout"}
    contexts = {name: {t.key: t.value for t in d.tags}["mlflow.data.context"] for name, d in inputs.items()}
    assert contexts == {"bonjour-train": "training", "bonjour-heldout": "evaluation"}
    assert inputs["bonjour-train"].dataset.profile == '{"num_rows": 1}'  # bonjour: one pair each


def test_the_digest_follows_the_pairs():
    task = Task("t", [Pair("a", "b")], [Pair("a", "c")])
    train, heldout = task_datasets(task, "train.jsonl", None)
    assert train.digest != heldout.digest and train.context == "training"
    assert json.loads(train.source) == {"uri": "train.jsonl"}


def test_a_second_held_out_set_is_a_third_evaluation_dataset():
    task = Task("t", [Pair("a", "b")], [Pair("a", "c")], transfer=[Pair("e", "f")])
    records = task_datasets(task, None, None, "forms.jsonl")
    assert [(r.name, r.context) for r in records] == [("t-train", "training"), ("t-heldout", "evaluation"),
                                                      ("t-transfer", "evaluation")]
    assert json.loads(records[2].source) == {"uri": "forms.jsonl"}


def test_a_named_run_keeps_its_name(compose_config, tmp_path):
    mlrun = _tracked_run(compose_config, tmp_path, "tracking.run_name=mine")
    assert mlrun.info.run_name == "mine"


def test_the_command_reads_as_typed():
    assert command_line(["/x/evosweep/__main__.py", "seed=1", "a b"]) == "python -m evosweep seed=1 'a b'"
    assert default_run_name("es", "fr_en", 0) == "es-fr_en-s0"


def test_a_tracked_run_records_system_metrics(tmp_path):
    """MLflow's system/* metrics (CPU, memory) are sampled while the run is open."""
    import time

    from evosweep.settings.tracking import TrackingSettings
    from evosweep.tracking.mlflow_tracker import MlflowTracker

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    tracker = MlflowTracker(TrackingSettings(uri=uri, experiment="t", artifact_location=str(tmp_path / "a"),
                                             system_metrics_every_s=0.5))
    tracker.start({}, {})
    deadline = time.monotonic() + 120  # a bound for a hang only: it samples every 0.5 s
    client = MlflowClient(uri)
    while "system/cpu_utilization_percentage" not in client.get_run(tracker.run_id).data.metrics:
        assert time.monotonic() < deadline, "no system metric within 120 s"
        time.sleep(0.25)
    tracker.end()
    metrics = client.get_run(tracker.run_id).data.metrics
    assert 0 <= metrics["system/cpu_utilization_percentage"] <= 100
    assert metrics["system/system_memory_usage_megabytes"] > 0


def test_a_dataset_row_raced_by_another_run_is_retried_then_only_warned(tmp_path, monkeypatch, caplog):
    """Runs starting together race to create one dataset row (PostgreSQL: a unique-key error)."""
    from mlflow.exceptions import MlflowException

    from evosweep.settings.tracking import TrackingSettings
    from evosweep.tracking.mlflow_tracker import MlflowTracker

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    tracker = MlflowTracker(TrackingSettings(uri=uri, experiment="t", artifact_location=str(tmp_path / "a"),
                                             system_metrics_every_s=None))
    tracker.start({}, {})
    records = task_datasets(Task("t", [Pair("a", "b")], [Pair("c", "d")]), None, None)
    real = tracker.client.log_inputs
    calls = []

    def raced_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise MlflowException("duplicate key value violates unique constraint \"dataset_pk\"")
        return real(*args, **kwargs)

    monkeypatch.setattr(tracker.client, "log_inputs", raced_once)
    tracker.log_datasets(records)
    assert len(calls) == 2
    assert len(MlflowClient(uri).get_run(tracker.run_id).inputs.dataset_inputs) == 2

    def always(*_args, **_kwargs):
        raise MlflowException("the store is read-only")

    monkeypatch.setattr(tracker.client, "log_inputs", always)
    tracker.log_datasets(records)  # a warning, not an error: the run goes on
    assert "could not log the task's datasets" in caplog.text
    tracker.end()
