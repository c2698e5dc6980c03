"""docs/guides/own-algorithm.md works as written: its files in a fresh folder, its commands composed
there, its algorithm run for two generations through the real run.

The module and its YAML are taken from the page's titled code blocks, so a change to the page is
what this test runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from doc_blocks import titled_blocks
from doc_commands import CONF, READER_FILES, extract, split
from hydra import compose, initialize_config_dir

from evosweep.errors import ConfigError
from evosweep.run import run
from evosweep.settings.build import build_settings
from evosweep.state.checkpoint import load_checkpoint

PAGE = "guides/own-algorithm.md"
SEARCHPATH = "hydra.searchpath=[file://my_conf]"
TINY = ["model=tiny-gpt2", "task=bonjour", "tracking=none", "algorithm.generations=2",
        "algorithm.population_size=4", "eval.max_new_tokens=4"]


@pytest.fixture
def reader_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding the page's files, as the working directory and on the import path."""
    files = titled_blocks(PAGE)
    assert set(files) == {"my_algorithms.py", "my_conf/algorithm/hill_climb.yaml"}
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("my_algorithms", None)


def _page_commands() -> list[list[str]]:
    """The overrides of the page's ``python -m evosweep`` commands."""
    out = []
    for command in extract(Path(CONF).parent / "docs" / PAGE):
        _, argv = split(command.text)
        assert argv[:3] == ["python", "-m", "evosweep"], command.text
        out.append(argv[3:])
    return out


def _compose(overrides: list[str]):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        return compose("config", overrides=overrides)


def test_the_page_s_commands_use_the_reader_s_folder():
    commands = _page_commands()
    assert commands and all(SEARCHPATH in overrides for overrides in commands)
    assert SEARCHPATH in READER_FILES  # the docs check leaves these commands to this test


def test_the_documented_commands_build_the_reader_s_algorithm(reader_folder):
    first, second = _page_commands()
    config = build_settings(_compose(first)).algorithm
    assert type(config).__name__ == "HillClimbConfig"
    fields = (config.name, config.population_size, config.generations, config.step)
    assert fields == ("hill_climb", 8, 10, 0.05)
    assert build_settings(_compose(second)).algorithm.step == 0.02


def test_a_bad_setting_stops_the_run_with_one_line(reader_folder):
    first, _ = _page_commands()
    with pytest.raises(ConfigError, match="algorithm.population_size: must be >= 2"):
        build_settings(_compose([*first, "algorithm.population_size=1"]))


def test_the_reader_s_algorithm_runs_and_resumes(reader_folder):
    first, _ = _page_commands()
    cfg = _compose([*first, *TINY])
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
    again = run(_compose([*first, *TINY]), reader_folder / "again")
    assert again == final
    repeated = load_checkpoint(reader_folder / "again")["algorithm"]["best"]
    assert torch.equal(repeated, checkpoint["algorithm"]["best"])
