"""Checkpoints are atomic, and a killed run resumes to exactly the run never interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import TIMING, TINY_RUN

from evosweep import testing_hooks
from evosweep.errors import ConfigError
from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.run import run
from evosweep.state.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from evosweep.state.relog import relog_missing

ROOT = Path(__file__).resolve().parent.parent
KILL_AT = testing_hooks.ENV
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


def _write_rounds_killed_at(folder: Path, point: str, rounds: int = 6) -> subprocess.CompletedProcess:
    """A process writing checkpoints of rounds 0.. (16 MB each) in ``folder``, killed at ``point``."""
    return subprocess.run([sys.executable, "-c", (
        "import sys, torch\n"
        "from evosweep.state.checkpoint import save_checkpoint\n"
        f"for i in range({rounds}):\n"
        "    save_checkpoint(sys.argv[1], {'round': i, 'weights': torch.full((4_000_000,), float(i))})\n"
    ), str(folder)], cwd=ROOT, env={**os.environ, KILL_AT: point}, capture_output=True, timeout=120)


def test_a_checkpoint_killed_mid_write_keeps_the_previous_one(tmp_path):
    """SIGKILL between writing round 3 and its atomic rename: round 2's checkpoint loads, whole."""
    writer = _write_rounds_killed_at(tmp_path, "checkpoint.mid_write@3")
    assert writer.returncode == -signal.SIGKILL, writer.stderr
    state = load_checkpoint(tmp_path)
    assert state["round"] == 2 and bool((state["weights"] == 2.0).all())
    (unrenamed,) = tmp_path.glob(".checkpoint-*.tmp")  # the kill came after the write, not before
    assert torch.load(unrenamed, weights_only=True)["round"] == 3


def test_a_checkpoint_killed_right_after_its_write_is_the_new_one(tmp_path):
    writer = _write_rounds_killed_at(tmp_path, "checkpoint.after_write@3")
    assert writer.returncode == -signal.SIGKILL, writer.stderr
    state = load_checkpoint(tmp_path)
    assert state["round"] == 3 and bool((state["weights"] == 3.0).all())
    assert [path.name for path in tmp_path.iterdir()] == [CHECKPOINT_NAME]


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_interrupted_mid_generation_resumes_exactly(compose_config, tmp_path, monkeypatch, algorithm):
    overrides = TINY_RUN + ["reward=chrf", "algorithm.generations=4", *ALGORITHMS[algorithm]]
    if algorithm in ("pg", "sft"):
        overrides = [o for o in overrides if not o.startswith("algorithm.population_size")]
    run(compose_config(overrides), tmp_path / "whole")

    def interrupt() -> None:  # in this process: an interrupt, not a SIGKILL of pytest
        raise KeyboardInterrupt

    monkeypatch.setenv(KILL_AT, "generation.told@2")  # generation 2 told, not checkpointed
    monkeypatch.setattr(testing_hooks, "die", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run(compose_config(overrides), tmp_path / "killed")
    monkeypatch.undo()
    killed = load_checkpoint(tmp_path / "killed")
    assert killed["algorithm"]["generation"] == 2 and len(killed["history"]) == 2  # generations 0, 1
    assert "final" not in killed
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


def test_sigkill_mid_generation_then_resume_matches_an_uninterrupted_run(tmp_path):
    from mlflow.tracking import MlflowClient

    whole_dir, killed_dir = tmp_path / "whole", tmp_path / "killed"
    whole_uri, killed_uri = f"sqlite:///{tmp_path}/whole.db", f"sqlite:///{tmp_path}/killed.db"
    subprocess.run(_command(whole_dir, whole_uri), cwd=ROOT, env=_environment(), check=True,
                   capture_output=True, timeout=600)

    # SIGKILLed once generation 2 is checkpointed, before the tracker logs it: the rerun relogs it
    victim = subprocess.run(_command(killed_dir, killed_uri), cwd=ROOT, capture_output=True, timeout=600,
                            env={**_environment(), KILL_AT: "generation.saved@2"})
    assert victim.returncode == -signal.SIGKILL, victim.stderr[-3000:]
    killed = load_checkpoint(killed_dir)
    assert killed["algorithm"]["generation"] == 3 and "final" not in killed
    client = MlflowClient(killed_uri)
    (mlrun,) = client.search_runs([client.get_experiment_by_name("resume").experiment_id])
    assert mlrun.info.status == "RUNNING"  # no finally ran: the process died
    assert sorted(m.step for m in client.get_metric_history(mlrun.info.run_id, "fitness/best")) == [0, 1]

    subprocess.run(_command(killed_dir, killed_uri, "resume=true"), cwd=ROOT, env=_environment(),
                   check=True, capture_output=True, timeout=600)

    whole, resumed = load_checkpoint(whole_dir), load_checkpoint(killed_dir)
    assert comparable(resumed["history"]) == comparable(whole["history"])
    # RL rounds after generations 2 and 4 (none after the last), 2 steps each
    assert resumed["rl_history"] == whole["rl_history"] and len(whole["rl_history"]) == 4
    assert (killed_dir / ADAPTER).read_bytes() == (whole_dir / ADAPTER).read_bytes()

    (mlrun,) = client.search_runs([client.get_experiment_by_name("resume").experiment_id])
    assert mlrun.info.run_id == resumed["mlflow_run_id"] and mlrun.info.status == "FINISHED"
    run_id = mlrun.info.run_id
    assert [m.step for m in client.get_metric_history(run_id, "heldout/base")] == [0]
    assert sorted(m.step for m in client.get_metric_history(run_id, "fitness/best")) == list(range(6))
    assert sorted(m.step for m in client.get_metric_history(run_id, "rl/loss")) == list(range(4))
    best = sorted((m.step, m.value) for m in client.get_metric_history(run_id, "fitness/best"))
    assert [value for _, value in best] == [row["fitness/best"] for row in whole["history"]]
