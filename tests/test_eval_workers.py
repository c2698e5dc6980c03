"""`eval.workers`: a generation's members scored on Ray actors, against one process.

Real Ray on this machine (2 CPUs), started once for the module and shut down after it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
import torch
from conftest import TIMING, TINY_RUN

from evosweep import testing_hooks
from evosweep.distributed.pool import WorkerPool
from evosweep.distributed.pooled_evaluator import PooledEvaluator, member_slices, start_pool, worker_spec
from evosweep.errors import ConfigError, WorkerError
from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.run import run, seed_everything
from evosweep.settings.build import build_settings
from evosweep.state.checkpoint import load_checkpoint
from evosweep.tasks.pairs import load_jsonl


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80_000_000,
             logging_level="WARNING", log_to_driver=False)
    yield ray
    ray.shutdown()


def comparable(history: list[dict]) -> list[dict]:
    return [{key: value for key, value in row.items() if key not in TIMING} for row in history]


def test_member_slices_are_contiguous_and_balanced() -> None:
    assert member_slices(7, 2) == [slice(0, 4), slice(4, 7)]
    assert member_slices(2, 4) == [slice(0, 1), slice(1, 2)]
    assert member_slices(6, 3) == [slice(0, 2), slice(2, 4), slice(4, 6)]


def test_two_workers_give_one_process_history_bit_for_bit(local_ray, compose_config, tmp_path):
    """ES with a text reward (answers come back too); GA with likelihood: the resume test below."""
    overrides = TINY_RUN + ["algorithm=es", "reward=chrf", "algorithm.generations=3"]
    one = run(compose_config(overrides), tmp_path / "one")
    two = run(compose_config(overrides + ["eval.workers=2"]), tmp_path / "two")
    history_one = load_checkpoint(tmp_path / "one")["history"]
    history_two = load_checkpoint(tmp_path / "two")["history"]
    assert len(history_two) == 3
    assert comparable(history_two) == comparable(history_one)  # floats compared exactly
    assert two == one


def _pooled_parts(compose_config, *extra: str):
    from evosweep.assemble import assemble

    settings = build_settings(compose_config(TINY_RUN + ["reward=chrf", "eval.max_new_tokens=12",
                                                         "eval.workers=2", *extra]))
    return assemble(settings, seed_everything(0))


def _cpu_ticks(pid: int) -> int:
    """User plus system CPU time of process ``pid`` so far, in clock ticks (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _kill_once_busy(pid: int, scoring: threading.Thread, timeout_s: float = 60) -> None:
    """SIGKILL ``pid`` as soon as it has spent 0.1 s of CPU on the slice: mid-slice, not before or after."""
    idle = _cpu_ticks(pid)
    deadline = time.monotonic() + timeout_s
    while _cpu_ticks(pid) - idle < 0.1 * os.sysconf("SC_CLK_TCK"):
        assert scoring.is_alive(), "the slices were scored before the worker got busy"
        assert time.monotonic() < deadline, f"worker {pid} never started scoring"
        time.sleep(0.01)
    assert scoring.is_alive(), "the slice was finished before the kill: make it larger"
    os.kill(pid, signal.SIGKILL)


def test_a_killed_worker_is_replaced_and_its_slice_scored_again(local_ray, compose_config):
    parts = _pooled_parts(compose_config)
    evaluator = parts.evaluator
    assert isinstance(evaluator, PooledEvaluator)
    generator = torch.Generator().manual_seed(1)
    population = parts.initial_member + 0.05 * torch.randn(96, parts.layout.dim, generator=generator)
    pairs = load_jsonl("builtin:fr_en_train.jsonl")[:32]  # each worker's slice takes seconds
    expected = PopulationEvaluator.score(evaluator, population, pairs)  # in this process

    try:
        before = evaluator.pool.describe()
        result = {}
        scoring = threading.Thread(target=lambda: result.update(done=evaluator.evaluate(population, pairs)))
        scoring.start()
        _kill_once_busy(before[1]["pid"], scoring)
        scoring.join(timeout=180)
        assert not scoring.is_alive()
        assert torch.equal(result["done"].scores, expected.scores)
        assert result["done"].completions == expected.completions
        after = evaluator.pool.describe()
        assert after[0]["pid"] == before[0]["pid"] and after[1]["pid"] != before[1]["pid"]  # replaced
        assert after[1]["slices_scored"] == 1  # the replacement scored the killed worker's slice again
    finally:
        evaluator.close()  # its CPUs go back to the cluster even when an assertion failed


def test_a_worker_dead_beyond_its_restarts_stops_with_one_line(local_ray, compose_config):
    settings = build_settings(compose_config(TINY_RUN + ["eval.workers=1"]))
    pool = WorkerPool(worker_spec(settings), 1, 0.0, max_restarts=0)
    try:
        info = pool.wait_ready(None, timeout_s=120)[0]
        os.kill(info["pid"], signal.SIGKILL)
        members = torch.zeros(2, info["dim"]).numpy()
        message = r"^eval\.workers: worker 0 died more than 0 time\(s\) .*rerun the same command to continue"
        with pytest.raises(WorkerError, match=message):
            pool.score([(members, None)], load_jsonl("builtin:fr_en_train.jsonl")[:2], None)
    finally:
        pool.close()


def test_more_workers_than_the_cluster_holds_is_a_config_error(local_ray, compose_config):
    settings = build_settings(compose_config(TINY_RUN + ["eval.workers=3"]))
    with pytest.raises(ConfigError, match=r"eval\.workers: 3 workers need 3 CPUs and 0 GPUs; the Ray cluster "
                       r"has 2 CPUs"):
        start_pool(settings)


def test_human_feedback_stays_in_this_process(compose_config):
    settings = build_settings(compose_config(TINY_RUN + ["reward=human", "eval.workers=2"]))
    with pytest.raises(ConfigError, match="reward=human and human_web ask a person in this process"):
        worker_spec(settings)


def test_a_run_whose_worker_is_gone_stops_then_resumes_to_the_same_history(
        local_ray, compose_config, tmp_path, monkeypatch):
    """Past its restarts a dead worker stops the run after its last checkpoint; the rerun
    continues it, and every generation is logged once, as in one uninterrupted process."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    tracked = [o for o in TINY_RUN if o != "tracking=none"] + [
        "algorithm=ga", "tracking=mlflow", f"tracking.uri={uri}", "tracking.experiment=w",
        f"tracking.artifact_location={tmp_path}/artifacts"]
    run(compose_config(TINY_RUN + ["algorithm=ga"]), tmp_path / "one")

    pools: list[WorkerPool] = []

    def fragile_pool(settings):  # no restarts, so the kill below stops the run
        pools.append(WorkerPool(worker_spec(settings), settings.eval.workers, 0.0, max_restarts=0))
        return pools[-1]

    def kill_the_worker() -> None:  # the kill point's action here: the worker dies, not this process
        os.kill(pools[0].describe()[0]["pid"], signal.SIGKILL)

    monkeypatch.setattr("evosweep.assemble.start_pool", fragile_pool)
    monkeypatch.setenv(testing_hooks.ENV, "generation.saved@0")  # generation 0 checkpointed and logged
    monkeypatch.setattr(testing_hooks, "die", kill_the_worker)
    with pytest.raises(WorkerError, match="rerun the same command to continue from the last checkpoint"):
        run(compose_config(tracked + ["eval.workers=1"]), tmp_path / "two")
    monkeypatch.undo()
    assert len(load_checkpoint(tmp_path / "two")["history"]) == 1
    run(compose_config(tracked + ["eval.workers=1"]), tmp_path / "two")  # the same command again

    whole, resumed = load_checkpoint(tmp_path / "one"), load_checkpoint(tmp_path / "two")
    assert comparable(resumed["history"]) == comparable(whole["history"])
    assert resumed["final"] == whole["final"]
    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name("w").experiment_id])
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"  # the rerun continued the same run
    steps = [m.step for m in client.get_metric_history(runs[0].info.run_id, "fitness/best")]
    assert steps == [0, 1, 2, 3]


def test_a_run_failing_before_its_loop_stops_its_workers(local_ray, compose_config, tmp_path, monkeypatch):
    """The workers start before the model loads: a load that fails (here in the driver only) stops them."""
    from evosweep.errors import ModelLoadError

    stopped: list[int] = []
    real_close = WorkerPool.close

    def recorded_close(pool: WorkerPool) -> None:
        stopped.append(len(pool.actors))
        real_close(pool)

    def failing_load(*_args):
        raise ModelLoadError("the driver's model is gone")

    monkeypatch.setattr(WorkerPool, "close", recorded_close)
    monkeypatch.setattr("evosweep.assemble.load_model", failing_load)
    with pytest.raises(ModelLoadError):
        run(compose_config(TINY_RUN + ["eval.workers=1"]), tmp_path)
    assert stopped == [1]
