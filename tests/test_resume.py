"""Checkpoints are atomic, and a killed run resumes to exactly the run never interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import TIMING, TINY_RUN

from evosweep.errors import ConfigError
from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.run import run
from evosweep.state.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from evosweep.state.relog import relog_missing

ROOT = Path(__file__).resolve().parent.parent
ADAPTER = Path("adapters") / "best" / "adapter_model.safetensors"
ALGORITHMS = {
    "ga": ["algorithm=ga"],
    "es": ["algorithm=es"],
    "pg": ["algorithm=pg", "algorithm.steps_per_generation=2", "algorithm.rl.group_size=2",
           "algorithm.rl.prompts_per_step=1"],
    "hybrid": ["algorithm=hybrid", "algorithm.rl_every=1", "algorithm.rl_steps=1",
               "algorithm.rl.group_size=2", "algorithm.rl.prompts_per_step=1"],
    "sft": ["algorithm=sft", "algorithm.batch_size=1", "algorithm.learning_rate=0.01"],
    "ga+prompts": ["algorithm=ga", "prompts=coevolve", "prompts.population_size=3",
                   "operators.text.rewrite_rate=0.5", "model.system_prompt=Reply with one word."],
}


def comparable(history: list[dict]) -> list[dict]:
    """History rows without wall-clock timings."""
    return [{key: value for key, value in row.items() if key not in TIMING} for row in history]


def test_a_failed_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, {"generation": 1})

    def torn_save(state, stream):
        stream.write(b"half a checkpoint")
        raise KeyboardInterrupt  # the process dies mid-write

    monkeypatch.setattr(torch, "save", torn_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, {"generation": 2})
    monkeypatch.undo()
    assert load_checkpoint(tmp_path) == {"generation": 1}
    assert [path.name for path in tmp_path.iterdir()] == [CHECKPOINT_NAME]


def test_a_checkpoint_killed_mid_write_is_never_corrupt(tmp_path):
    """SIGKILL a process while it writes big checkpoints in a loop: the file always loads."""
    save_checkpoint(tmp_path, {"round": -1, "weights": torch.full((1,), -1.0)})
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sys, torch\n"
        "from evosweep.state.checkpoint import save_checkpoint\n"
        "for i in range(1000):\n"
        "    save_checkpoint(sys.argv[1], {'round': i, 'weights': torch.full((4_000_000,), float(i))})\n"
    ), str(tmp_path)], cwd=ROOT)
    deadline = time.monotonic() + 120
    rounds = []
    while time.monotonic() < deadline and (not rounds or rounds[-1] < 3):
        state = load_checkpoint(tmp_path)  # read while the writer replaces it
        assert bool((state["weights"] == state["round"]).all())
        rounds.append(state["round"])
    time.sleep(0.07)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    state = load_checkpoint(tmp_path)
    assert state["round"] >= 3
    assert bool((state["weights"] == state["round"]).all())


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_interrupted_mid_generation_resumes_exactly(compose_config, tmp_path, monkeypatch, algorithm):
    overrides = TINY_RUN + ["reward=chrf", "algorithm.generations=4", *ALGORITHMS[algorithm]]
    if algorithm in ("pg", "sft"):
        overrides = [o for o in overrides if not o.startswith("algorithm.population_size")]
    run(compose_config(overrides), tmp_path / "whole")

    calls = {"count": 0}
    original = PopulationEvaluator.evaluate

    def dies_in_generation_2(self, population, pairs, instructions=None):
        calls["count"] += 1
        if calls["count"] == 1 + 2 * 2 + 2:  # base, 2 generations, then generation 2's held-out eval
            raise KeyboardInterrupt  # after ask/evaluate/tell of generation 2, before its checkpoint
        return original(self, population, pairs, instructions)

    monkeypatch.setattr(PopulationEvaluator, "evaluate", dies_in_generation_2)
    with pytest.raises(KeyboardInterrupt):
        run(compose_config(overrides), tmp_path / "killed")
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "killed")["algorithm"]["generation"] == 2
    run(compose_config(overrides + ["resume=true"]), tmp_path / "killed")

    whole, resumed = load_checkpoint(tmp_path / "whole"), load_checkpoint(tmp_path / "killed")
    assert comparable(resumed["history"]) == comparable(whole["history"])
    assert resumed["rl_history"] == whole["rl_history"]
    assert resumed["final"] == whole["final"]
    assert (tmp_path / "killed" / ADAPTER).read_bytes() == (tmp_path / "whole" / ADAPTER).read_bytes()


def test_a_finished_run_returns_its_result_without_running_again(compose_config, tmp_path, monkeypatch):
    overrides = TINY_RUN + ["algorithm.generations=2"]
    final = run(compose_config(overrides), tmp_path)
    monkeypatch.setattr(PopulationEvaluator, "evaluate", lambda *args: pytest.fail("evaluated again"))
    assert run(compose_config(overrides), tmp_path) == final


def test_a_checkpoint_of_another_config_is_never_overwritten(compose_config, tmp_path):
    run(compose_config(TINY_RUN + ["algorithm.generations=1"]), tmp_path)
    before = (tmp_path / "checkpoint.pt").read_bytes()
    with pytest.raises(ConfigError) as error:
        run(compose_config(TINY_RUN + ["algorithm.generations=2", "resume=true"]), tmp_path)
    assert error.value.field == "resume" and "algorithm.generations" in str(error.value)
    with pytest.raises(ConfigError) as error:  # without resume=true too: it names the folder setting
        run(compose_config(TINY_RUN + ["algorithm.generations=2", "seed=5"]), tmp_path)
    assert error.value.field == "hydra.run.dir" and "seed" in str(error.value)
    assert (tmp_path / "checkpoint.pt").read_bytes() == before


def test_keys_that_do_not_change_the_search_may_differ_on_resume(compose_config, tmp_path):
    run(compose_config(TINY_RUN + ["algorithm.generations=1"]), tmp_path)
    final = load_checkpoint(tmp_path)["final"]
    again = TINY_RUN + ["algorithm.generations=1", "tracking.run_name=renamed", "eval.workers=0"]
    assert run(compose_config(again), tmp_path) == final  # the finished run, not a refusal


class RecordingTracker:
    def __init__(self, logged: dict[str, set[int]]) -> None:
        self.logged = logged
        self.calls: list[tuple[dict, int]] = []

    def logged_steps(self, key: str) -> set[int]:
        return self.logged.get(key, set())

    def log_metrics(self, metrics: dict, step: int) -> None:
        self.calls.append((metrics, step))


def test_resume_relogs_only_what_the_tracker_lacks():
    checkpoint = {
        "base": {"heldout/base": -3.0, "heldout/base_exact": 0.0},
        "history": [{"generation": 0, "fitness/best": 1.0}, {"generation": 1, "fitness/best": 2.0}],
        "rl_history": [{"rl/step": 0, "rl/loss": 0.5}, {"rl/step": 1, "rl/loss": 0.4}],
    }
    tracker = RecordingTracker({"heldout/base": {0}, "fitness/best": {0}, "rl/loss": {0}})
    assert relog_missing(tracker, checkpoint) == 2
    assert tracker.calls == [({"fitness/best": 2.0}, 1), ({"rl/loss": 0.4}, 1)]


def _command(run_dir: Path, uri: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "evosweep", *[o for o in TINY_RUN if o != "tracking=none"],
            "algorithm=hybrid", "algorithm.generations=6", "algorithm.rl_every=2", "algorithm.rl_steps=2",
            "algorithm.rl.group_size=2", "algorithm.rl.prompts_per_step=1",
            "tracking=mlflow", f"tracking.uri={uri}", "tracking.experiment=resume",
            f"tracking.artifact_location={run_dir.parent}/artifacts-{run_dir.name}",
            f"hydra.run.dir={run_dir}", *extra]


def _environment() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TQDM_DISABLE": "1"}


def _generation_on_disk(run_dir: Path) -> int:
    try:
        return load_checkpoint(run_dir)["algorithm"]["generation"]
    except TypeError:  # no checkpoint yet (None)
        return -1


def test_sigkill_mid_generation_then_resume_matches_an_uninterrupted_run(tmp_path):
    from mlflow.tracking import MlflowClient

    whole_dir, killed_dir = tmp_path / "whole", tmp_path / "killed"
    whole_uri, killed_uri = f"sqlite:///{tmp_path}/whole.db", f"sqlite:///{tmp_path}/killed.db"
    subprocess.run(_command(whole_dir, whole_uri), cwd=ROOT, env=_environment(), check=True,
                   capture_output=True, timeout=600)

    victim = subprocess.Popen(_command(killed_dir, killed_uri), cwd=ROOT, env=_environment(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while _generation_on_disk(killed_dir) < 2 and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed_at = _generation_on_disk(killed_dir)
    assert 2 <= killed_at < 6, f"killed at generation {killed_at}"
    assert "final" not in load_checkpoint(killed_dir)

    subprocess.run(_command(killed_dir, killed_uri, "resume=true"), cwd=ROOT, env=_environment(),
                   check=True, capture_output=True, timeout=600)

    whole, resumed = load_checkpoint(whole_dir), load_checkpoint(killed_dir)
    assert comparable(resumed["history"]) == comparable(whole["history"])
    # RL rounds after generations 2 and 4 (none after the last), 2 steps each
    assert resumed["rl_history"] == whole["rl_history"] and len(whole["rl_history"]) == 4
    assert (killed_dir / ADAPTER).read_bytes() == (whole_dir / ADAPTER).read_bytes()

    client = MlflowClient(killed_uri)
    (mlrun,) = client.search_runs([client.get_experiment_by_name("resume").experiment_id])
    assert mlrun.info.run_id == resumed["mlflow_run_id"] and mlrun.info.status == "FINISHED"
    run_id = mlrun.info.run_id
    assert [m.step for m in client.get_metric_history(run_id, "heldout/base")] == [0]
    assert sorted(m.step for m in client.get_metric_history(run_id, "fitness/best")) == list(range(6))
    assert sorted(m.step for m in client.get_metric_history(run_id, "rl/loss")) == list(range(4))
    best = sorted((m.step, m.value) for m in client.get_metric_history(run_id, "fitness/best"))
    assert [value for _, value in best] == [row["fitness/best"] for row in whole["history"]]
