"""Mistakes a new user makes end in one line that names the field or file, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from evosweep.errors import ConfigError, TaskFileError
from evosweep.models.device import resolve_device
from evosweep.settings.task import TaskSettings
from evosweep.tasks.task import load_task

REPO = Path(__file__).resolve().parent.parent


def _evosweep(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MLFLOW_ENABLE_TELEMETRY": "false"}
    return subprocess.run([sys.executable, "-m", "evosweep", "model=tiny-gpt2", "tracking=none",
                           f"hydra.run.dir={tmp_path / 'run'}", *overrides],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("overrides,expected", [
    (["task=jsonl"], "evosweep: error: task.train_path: is required: add task.train_path=path/to/file.jsonl"),
    (["device=cuda"] if not torch.cuda.is_available() else ["device=cuda:99"], "evosweep: error: device: "),
    (["task.eval_path=/nonexistent/eval.jsonl"],
     "evosweep: error: /nonexistent/eval.jsonl: task file not found"),
])
def test_one_clear_line_and_exit_2(tmp_path, overrides, expected):
    done = _evosweep(tmp_path, *overrides)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("evosweep: error:")]
    assert len(lines) == 1 and lines[0].startswith(expected), done.stderr[-2000:]


def test_cuda_without_a_gpu_is_a_config_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigError, match="device=cpu or device=auto") as error:
        resolve_device("cuda")
    assert error.value.field == "device"
    assert resolve_device("auto") == "cpu"


def test_unknown_device_is_named():
    with pytest.raises(ConfigError, match="unknown device 'gpu'"):
        resolve_device("gpu")


def test_an_empty_jsonl_names_the_file(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(TaskFileError, match=f"{empty}: no pairs in file"):
        load_task(TaskSettings(train_path=str(empty)))


def test_a_bad_eval_path_names_the_file(tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text('{"prompt": "a", "reference": "b"}\n')
    with pytest.raises(TaskFileError, match="missing.jsonl: task file not found"):
        load_task(TaskSettings(train_path=str(train), eval_path=str(tmp_path / "missing.jsonl")))


def test_config_errors_survive_pickling_across_processes():
    """joblib sends a failed trial's exception back to the sweep: it must unpickle as itself."""
    import pickle

    error = pickle.loads(pickle.dumps(ConfigError("algorithm.elite", "must be < 4")))
    assert isinstance(error, ConfigError) and error.field == "algorithm.elite"
    assert str(error) == "algorithm.elite: must be < 4"
