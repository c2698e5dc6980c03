"""docs/guides/own-algorithm.md works as written: its files in a fresh folder, its commands composed
there, its algorithm run for two generations through the real run.

The module and its YAML are taken from the page's titled code blocks, so a change to the page is
what this test runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from doc_commands import READER_FILES
from guide_pages import SEARCHPATH, compose_overrides, page_commands
from guide_pages import reader_folder as guide_reader_folder

from evosweep.errors import ConfigError
from evosweep.run import run
from evosweep.settings.build import build_settings
from evosweep.state.checkpoint import load_checkpoint

PAGE = "guides/own-algorithm.md"
TINY = ["model=tiny-gpt2", "task=bonjour", "tracking=none", "algorithm.generations=2",
        "algorithm.population_size=4", "eval.max_new_tokens=4"]


@pytest.fixture
def reader_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder holding the page's files, as the working directory and on the import path."""
    files = {"my_algorithms.py", "my_conf/algorithm/hill_climb.yaml"}
    yield from guide_reader_folder(PAGE, files, "my_algorithms", tmp_path, monkeypatch)


def test_the_page_s_commands_use_the_reader_s_folder():
    commands = page_commands(PAGE)
    assert commands and all(SEARCHPATH in overrides for overrides in commands)
    assert SEARCHPATH in READER_FILES  # the docs check leaves these commands to this test


def test_the_documented_commands_build_the_reader_s_algorithm(reader_folder):
    first, second = page_commands(PAGE)
    config = build_settings(compose_overrides(first)).algorithm
    assert type(config).__name__ == "HillClimbConfig"
    fields = (config.name, config.population_size, config.generations, config.step)
    assert fields == ("hill_climb", 8, 10, 0.05)
    assert build_settings(compose_overrides(second)).algorithm.step == 0.02


def test_a_bad_setting_stops_the_run_with_one_line(reader_folder):
    first, _ = page_commands(PAGE)
    with pytest.raises(ConfigError, match="algorithm.population_size: must be >= 2"):
        build_settings(compose_overrides([*first, "algorithm.population_size=1"]))


def test_the_reader_s_algorithm_runs_and_resumes(reader_folder):
    first, _ = page_commands(PAGE)
    cfg = compose_overrides([*first, *TINY])
    final = run(cfg, reader_folder / "run")
    checkpoint = load_checkpoint(reader_folder / "run")
    history = checkpoint["history"]
    assert len(history) == 2 and 0.0 <= final <= 1.0
    assert all(row["perf/reward_evals"] == 4 and "hill_climb/moved" in row for row in history)
    bests = [row["fitness/best"] for row in history]
    assert bests[1] >= bests[0]  # the best so far is member 0 of the next generation
    assert checkpoint["algorithm"]["generation"] == 2
    assert "hill_climb, P=4, 2 generations" in (reader_folder / "run" / "summary.md").read_text()
    # the same seed repeats the run bit for bit, through the algorithm's own generator
    again = run(compose_overrides([*first, *TINY]), reader_folder / "again")
    assert again == final
    repeated = load_checkpoint(reader_folder / "again")["algorithm"]["best"]
    assert torch.equal(repeated, checkpoint["algorithm"]["best"])
