"""A tracked run with reward=human_web, rated by the scripted rater: ratings.jsonl becomes an artifact."""

from __future__ import annotations

import json
import threading

from conftest import TINY_RUN
from mlflow.tracking import MlflowClient
from test_rating_page_resume import free_port

from evosweep.rewards.rating.scripted_rater import rate_until_done
from evosweep.run import run


def test_the_ratings_are_logged_to_mlflow_and_every_click_was_kept(compose_config, tmp_path):
    uri, port = f"sqlite:///{tmp_path}/mlflow.db", free_port()
    overrides = [o for o in TINY_RUN if o != "tracking=none"] + [
        "tracking=mlflow", f"tracking.uri={uri}", "tracking.experiment=t",
        f"tracking.artifact_location={tmp_path}/artifacts", "algorithm.generations=2",
        "algorithm.mutation_scale=1.0", "reward=human_web", "reward.mode=pairwise", "reward.comparisons=3",
        f"reward.port={port}", "reward.token=tracked", "reward.timeout_s=60"]
    clicks_log = tmp_path / "clicks.jsonl"
    rater = threading.Thread(target=rate_until_done,
                             args=(f"http://127.0.0.1:{port}/?token=tracked", clicks_log, 120.0, 2.0))
    rater.start()
    run(compose_config(overrides), tmp_path / "run")
    rater.join(timeout=30)
    client = MlflowClient(uri)
    (mlrun,) = client.search_runs([client.get_experiment_by_name("t").experiment_id])
    logged = client.download_artifacts(mlrun.info.run_id, "human_feedback/ratings.jsonl", str(tmp_path))
    records = [json.loads(line) for line in open(logged, encoding="utf-8")]
    clicks = [json.loads(line) for line in clicks_log.read_text().splitlines()]
    assert len(records) == len(clicks) > 0  # every click is a line, nothing more
    assert {record["kind"] for record in records} == {"comparison"}
    assert {click["stage"] for click in clicks} <= {f"generation {g}" for g in range(2)}  # held-out: 1 each
