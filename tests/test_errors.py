"""The one-line error texts every message uses (evosweep.errors)."""

from __future__ import annotations

from evosweep.errors import MESSAGE_LIMIT, first_line, one_line, shorten


def test_shorten_puts_text_on_one_line_and_marks_the_cut():
    assert shorten("a\n  b\tc") == "a b c"
    cut = shorten("x" * 1000)
    assert len(cut) == MESSAGE_LIMIT and cut.endswith("...")
    assert shorten("y" * 10, limit=10) == "y" * 10  # no cut at the limit itself
    assert shorten("y" * 11, limit=10) == "y" * 7 + "..."


def test_one_line_falls_back_to_the_type_name():
    assert one_line(ValueError("bad\nvalue")) == "bad value"
    assert one_line(TimeoutError()) == "TimeoutError"
    assert len(one_line(OSError("<html>" + "z" * 5000))) == MESSAGE_LIMIT


def test_first_line_keeps_the_type_and_the_first_line_only():
    error = RuntimeError("\n  worker died\nTraceback (most recent call last):\n  ...")
    assert first_line(error) == "RuntimeError: worker died"
    assert first_line(KeyError()) == "KeyError: no message"
