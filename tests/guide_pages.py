"""A guide page's files written into a reader's fresh folder, and its ``python -m evosweep`` commands."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from doc_blocks import DOCS, titled_blocks
from doc_commands import CONF, extract, split
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

SEARCHPATH = "hydra.searchpath=[file://my_conf]"


def reader_folder(page: str, files: set[str], module: str, folder: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``page``'s titled files (exactly ``files``) in ``folder``, which becomes the working
    directory and joins the import path; ``module`` is forgotten afterwards."""
    blocks = titled_blocks(page)
    assert set(blocks) == files
    for name, body in blocks.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(body)
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    sys.modules.pop(module, None)


def page_commands(page: str) -> list[list[str]]:
    """The overrides of ``page``'s ``python -m evosweep`` commands."""
    out = []
    for command in extract(DOCS / page):
        _, argv = split(command.text)
        assert argv[:3] == ["python", "-m", "evosweep"], command.text
        out.append(argv[3:])
    return out


def compose_overrides(overrides: list[str]) -> DictConfig:
    """The project's config composed with ``overrides`` (no Hydra run)."""
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        return compose("config", overrides=overrides)
