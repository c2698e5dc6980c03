"""docs/guides/own-reward.md works as written: its files in a fresh folder, its commands composed there.

The reward module and its YAML are taken from the page's titled code blocks, so a
change to the page is what this test runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from doc_blocks import titled_blocks
from doc_commands import CONF, READER_FILES, extract, split
from hydra import compose, initialize_config_dir

from evosweep.run import run
from evosweep.settings.build import build_settings
from evosweep.state.checkpoint import load_checkpoint

PAGE = "guides/own-reward.md"
SEARCHPATH = "hydra.searchpath=[file://my_conf]"


@pytest.fixture
def reader_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding the page's files, as the working directory and on the import path."""
    files = titled_blocks(PAGE)
    assert set(files) == {"my_rewards.py", "my_conf/reward/first_word.yaml"}
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("my_rewards", None)


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


def test_the_documented_commands_build_the_reader_s_reward(reader_folder):
    first, second = _page_commands()
    reward = build_settings(_compose(first)).reward
    assert type(reward).__name__ == "FirstWordReward" and reward.ignore_case
    assert reward.value_range == (0.0, 1.0)
    assert reward(["Hello, there.", "hi", ""], ["hello", "hello", "hello"], None) == [1.0, 0.0, 0.0]
    assert build_settings(_compose(second)).reward.ignore_case is False
    assert _compose(first).eval.max_new_tokens == 8


def test_the_reader_s_reward_scores_a_run(reader_folder):
    first, _ = _page_commands()
    cfg = _compose([*first, "model=tiny-gpt2", "task=bonjour", "tracking=none", "algorithm.generations=2",
                    "algorithm.population_size=4", "eval.max_new_tokens=4"])
    final = run(cfg, reader_folder / "run")
    history = load_checkpoint(reader_folder / "run")["history"]
    assert len(history) == 2 and 0.0 <= final <= 1.0
    assert all(0.0 <= row["fitness/best"] <= 1.0 and row["perf/reward_evals"] == 4 for row in history)
    assert "bonjour / FirstWordReward" in (reader_folder / "run" / "summary.md").read_text()
