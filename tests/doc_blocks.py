"""Code blocks of a docs page, so tests can run what a page shows (and the page cannot drift)."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
_BLOCK = re.compile(r'^```(?P<lang>\w+)(?: title="(?P<title>[^"]+)")?[^\n]*\n(?P<body>.*?)^```', re.M | re.S)


def code_blocks(page: str, lang: str) -> list[str]:
    """The bodies of ``page``'s (relative to docs/) top-level ``lang`` blocks, in order."""
    text = (DOCS / page).read_text()
    return [block["body"] for block in _BLOCK.finditer(text) if block["lang"] == lang]


def titled_blocks(page: str) -> dict[str, str]:
    """``{title: body}`` of the blocks written ```` ```lang title="path" ````: files the page shows."""
    text = (DOCS / page).read_text()
    return {block["title"]: block["body"] for block in _BLOCK.finditer(text) if block["title"]}
