"""reward=human_web killed mid-generation (SIGKILL) and resumed: only unrated outputs are asked."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

from conftest import TINY_RUN
from rating_client import RatingClient
from scripted_rater import answer_for

RATED_RUN = TINY_RUN + ["algorithm.population_size=4", "algorithm.generations=2",
                        "algorithm.mutation_scale=1.0"]
TOKEN = "resume-test-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_run(run_dir, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "evosweep", *RATED_RUN, "reward=human_web", f"reward.port={port}",
               f"reward.token={TOKEN}", "reward.timeout_s=120", f"hydra.run.dir={run_dir}"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def rated_outputs(run_dir) -> list[tuple[str, str]]:
    """(prompt, output) of each line of the run's ratings.jsonl."""
    records = [json.loads(line) for line in (run_dir / "ratings.jsonl").read_text().splitlines()]
    return [(record["prompt"], record["output"]) for record in records]


def key(item: dict) -> tuple[str, str]:
    return item["prompt"], item["output"]


def test_a_run_killed_mid_generation_resumes_asking_only_for_unrated_outputs(tmp_path):
    port = free_port()
    client = RatingClient(f"http://127.0.0.1:{port}/", TOKEN)
    first = start_run(tmp_path, port)
    try:
        while True:  # rate whole rounds until one has several outputs; rate one of those, then kill
            state = client.wait_for_items(90, alive=lambda: first.poll() is None)
            if len(state["items"]) >= 2:
                break
            for item in state["items"]:
                client.rate(state, item, answer=answer_for(item["output"]))
        client.rate(state, state["items"][0], answer=answer_for(state["items"][0]["output"]))
        unrated = {key(item) for item in state["items"][1:]}
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    before = rated_outputs(tmp_path)
    assert key(state["items"][0]) in before and not unrated & set(before)

    second = start_run(tmp_path, port)
    asked: list[tuple[str, str]] = []
    try:
        while second.poll() is None:
            try:
                state = client.wait_for_items(90, alive=lambda: second.poll() is None)
            except TimeoutError:
                break
            for item in state["items"]:
                asked.append(key(item))
                client.rate(state, item, answer=answer_for(item["output"]))
        assert second.wait(timeout=60) == 0, second.stderr.read()
    finally:
        if second.poll() is None:
            second.kill()
    assert unrated <= set(asked)  # the rest of the killed round was asked again
    assert not set(asked) & set(before)  # nothing rated before the kill was asked again
    after = rated_outputs(tmp_path)
    assert len(after) == len(set(after)) == len(before) + len(asked)  # each output rated once
