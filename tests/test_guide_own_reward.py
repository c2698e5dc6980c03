"""docs/guides/own-reward.md works as written: its files in a fresh folder, its commands composed there.

The reward module and its YAML are taken from the page's titled code blocks, so a
change to the page is what this test runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from doc_commands import READER_FILES
from guide_pages import SEARCHPATH, compose_overrides, page_commands
from guide_pages import reader_folder as guide_reader_folder

from evosweep.run import run
from evosweep.settings.build import build_settings
from evosweep.state.checkpoint import load_checkpoint

PAGE = "guides/own-reward.md"


@pytest.fixture
def reader_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder holding the page's files, as the working directory and on the import path."""
    files = {"my_rewards.py", "my_conf/reward/first_word.yaml"}
    yield from guide_reader_folder(PAGE, files, "my_rewards", tmp_path, monkeypatch)


def test_the_page_s_commands_use_the_reader_s_folder():
    commands = page_commands(PAGE)
    assert commands and all(SEARCHPATH in overrides for overrides in commands)
    assert SEARCHPATH in READER_FILES  # the docs check leaves these commands to this test


def test_the_documented_commands_build_the_reader_s_reward(reader_folder):
    first, second = page_commands(PAGE)
    reward = build_settings(compose_overrides(first)).reward
    assert type(reward).__name__ == "FirstWordReward" and reward.ignore_case
    assert reward.value_range == (0.0, 1.0)
    assert reward(["Hello, there.", "hi", ""], ["hello", "hello", "hello"], None) == [1.0, 0.0, 0.0]
    assert build_settings(compose_overrides(second)).reward.ignore_case is False
    assert compose_overrides(first).eval.max_new_tokens == 8


def test_the_reader_s_reward_scores_a_run(reader_folder):
    first, _ = page_commands(PAGE)
    tiny = ["model=tiny-gpt2", "task=bonjour", "tracking=none", "algorithm.generations=2",
            "algorithm.population_size=4", "eval.max_new_tokens=4"]
    cfg = compose_overrides([*first, *tiny])
    final = run(cfg, reader_folder / "run")
    history = load_checkpoint(reader_folder / "run")["history"]
    assert len(history) == 2 and 0.0 <= final <= 1.0
    assert all(0.0 <= row["fitness/best"] <= 1.0 and row["perf/reward_evals"] == 4 for row in history)
    assert "bonjour / FirstWordReward" in (reader_folder / "run" / "summary.md").read_text()
