"""End to end: a tiny 2-config x 2-seed experiment through multirun, MLflow and the report.

About a minute on a busy 2-core CPU (four tiny-gpt2 runs in a Hydra multirun); part of ``make test``.
"""

from __future__ import annotations

import csv
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mlflow.entities import Param
from mlflow.tracking import MlflowClient

from evosweep.report.cli import build_report

ROOT = Path(__file__).resolve().parent.parent

EXPERIMENT = textwrap.dedent("""\
    # @package _global_
    defaults:
      - override /model: tiny-gpt2
      - override /task: bonjour
    algorithm:
      generations: 3
    eval:
      max_new_tokens: 2
    ablation: P=${algorithm.population_size}
    tracking:
      experiment: tiny_report
    hydra:
      sweeper:
        params:
          seed: 0,1
          algorithm.population_size: 4,6
    """)


@pytest.fixture(scope="module")
def tiny_experiment(tmp_path_factory) -> tuple[str, Path]:
    """Run the tiny grid once (4 runs) into a temp store; add one failed run by hand."""
    tmp = tmp_path_factory.mktemp("report")
    (tmp / "conf" / "experiment").mkdir(parents=True)
    (tmp / "conf" / "experiment" / "tiny_report.yaml").write_text(EXPERIMENT)
    uri = f"sqlite:///{tmp}/mlflow.db"
    command = [sys.executable, "-m", "evosweep", "-m", "--config-dir", str(tmp / "conf"),
               "+experiment=tiny_report", f"tracking.uri={uri}",
               f"tracking.artifact_location={tmp}/artifacts", f"hydra.sweep.dir={tmp}/multirun"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    client = MlflowClient(uri)
    experiment_id = client.get_experiment_by_name("tiny_report").experiment_id
    finished = client.search_runs([experiment_id])
    params = dict(finished[0].data.params, seed="2")  # a run of a known config that crashed
    failed = client.create_run(experiment_id, run_name="crashed")
    client.log_batch(failed.info.run_id, params=[Param(k, v) for k, v in params.items()])
    client.set_terminated(failed.info.run_id, status="FAILED")
    return uri, tmp


def _expected(client: MlflowClient, experiment_id: str) -> dict[str, dict[str, list[float]]]:
    """Per population size: final held-out, last best fitness, total evals of finished runs."""
    groups: dict[str, dict[str, list[float]]] = {}
    for run in client.search_runs([experiment_id], "attributes.status = 'FINISHED'"):
        if run.data.tags.get("evosweep.report") == "true":
            continue
        group = groups.setdefault(run.data.params["algorithm.population_size"],
                                  {"final": [], "best": [], "evals": [], "seeds": []})
        group["final"].append(run.data.metrics["heldout/final"])
        best = client.get_metric_history(run.info.run_id, "fitness/best")
        group["best"].append(max(best, key=lambda m: m.step).value)
        evals = client.get_metric_history(run.info.run_id, "perf/reward_evals")
        group["evals"].append(sum(m.value for m in evals))
        group["seeds"].append(run.data.params["seed"])
    return groups


def test_report_table_matches_mlflow(tiny_experiment):
    uri, tmp = tiny_experiment
    files = build_report("tiny_report", uri, tmp / "report")
    client = MlflowClient(uri)
    experiment_id = client.get_experiment_by_name("tiny_report").experiment_id
    expected = _expected(client, experiment_id)
    assert sorted(expected) == ["4", "6"]

    with open(files.csv) as handle:
        rows = {row["algorithm.population_size"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == ["4", "6"]
    for size, values in expected.items():
        row = rows[size]
        assert row["configuration"] == f"P={size}"
        assert int(row["n_seeds"]) == 2 and row["seeds"] == "0 1"
        assert float(row["heldout_final_mean"]) == pytest.approx(statistics.fmean(values["final"]))
        assert float(row["heldout_final_std"]) == pytest.approx(statistics.stdev(values["final"]))
        assert float(row["fitness_best_mean"]) == pytest.approx(statistics.fmean(values["best"]))
        assert float(row["fitness_best_std"]) == pytest.approx(statistics.stdev(values["best"]))
        assert float(row["reward_evals_mean"]) == pytest.approx(statistics.fmean(values["evals"]))
        # P members x 1 train prompt x 3 generations
        assert float(row["reward_evals_mean"]) == int(size) * 3
        assert float(row["wall_s_mean"]) > 0

    text = files.markdown.read_text()
    assert "## Missing or failed runs" in text
    assert "seed 2: run crashed" in text and "status FAILED" in text
    assert "| `P=4` | 0 1 (2) |" in text
    assert files.plot.stat().st_size > 10_000

    summary = client.get_run(files.run_id)
    assert summary.data.tags["evosweep.report"] == "true"
    logged = {a.path for a in client.list_artifacts(files.run_id, "report")}
    assert logged == {"report/report.md", "report/report.csv", "report/fitness_curves.png"}


def test_a_second_report_skips_the_first_reports_run(tiny_experiment):
    uri, tmp = tiny_experiment
    first = build_report("tiny_report", uri, tmp / "r1")
    second = build_report("tiny_report", uri, tmp / "r2", log_to_mlflow=False)
    assert second.run_id is None
    assert first.csv.read_text() == second.csv.read_text()
    assert "5 runs" in second.markdown.read_text()  # 4 finished + 1 failed, no summary runs
