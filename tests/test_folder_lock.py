"""One run per output folder: a second live run in it stops before writing; a dead one never blocks."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import TINY_RUN

from evosweep.errors import ConfigError
from evosweep.run import run
from evosweep.state.checkpoint import load_checkpoint
from evosweep.state.folder_lock import LOCK_NAME, folder_lock


def test_a_run_in_a_folder_another_run_holds_stops_before_writing(compose_config, tmp_path):
    with folder_lock(tmp_path):
        with pytest.raises(ConfigError, match="hydra.run.dir") as caught:
            run(compose_config(TINY_RUN), tmp_path)
    assert "being written by another run" in str(caught.value) and "hydra.sweep.dir" in str(caught.value)
    assert load_checkpoint(tmp_path) is None
    assert [path.name for path in tmp_path.iterdir()] == [LOCK_NAME]


def test_the_lock_is_free_again_after_the_run(compose_config, tmp_path):
    run(compose_config([*TINY_RUN, "algorithm.generations=1"]), tmp_path)
    with folder_lock(tmp_path):  # would raise if the finished run still held it
        assert (tmp_path / LOCK_NAME).read_text().startswith("pid ")


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    killed = subprocess.run([sys.executable, "-c", (
        "import os, signal, sys\n"
        "from evosweep.state.folder_lock import folder_lock\n"
        "with folder_lock(sys.argv[1]):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    ), str(tmp_path)], capture_output=True, timeout=60)
    assert killed.returncode == -9, killed.stderr
    assert (tmp_path / LOCK_NAME).exists()
    with folder_lock(tmp_path):
        pass
