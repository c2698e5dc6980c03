"""One error type per kind of user mistake, each naming what to fix."""

from __future__ import annotations


class EvosweepError(Exception):
    """Base class: an error whose message alone tells the user what to do."""


class FieldError(EvosweepError):
    """An error about one setting: ``field`` is its dotted path, the message says what to do."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __reduce__(self):
        """Rebuild from (field, message): a trial's error crosses process boundaries (joblib)."""
        return type(self), (self.field, self.message)


class ConfigError(FieldError, ValueError):
    """A config value is invalid; ``field`` is its dotted path (e.g. ``algorithm.elite``)."""


class TaskFileError(EvosweepError, ValueError):
    """A task file is missing or malformed; the message names file and line."""


class ModelLoadError(EvosweepError, OSError):
    """The base model cannot be loaded; the message says how to get it."""


class RewardError(EvosweepError, RuntimeError):
    """A reward failed for every member of the population."""


class CheckpointError(EvosweepError, ValueError):
    """A run folder's checkpoint cannot be used; the message names the file."""


class TrackingError(FieldError, OSError):
    """The tracking store stopped answering mid-run; ``field`` is the setting that names it."""


class WorkerError(EvosweepError, RuntimeError):
    """An evaluation worker (``eval.workers``) could not start, or died beyond its restarts."""

    def __reduce__(self):
        return type(self), (str(self),)


#: the longest error text put into a one-line message (a store's error can be a whole HTML page)
MESSAGE_LIMIT = 300


def shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` on one line (each run of whitespace one space), cut to ``limit`` characters with "..."."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: max(limit - 3, 0)] + "..."


def one_line(error: object, limit: int = MESSAGE_LIMIT) -> str:
    """An error's message shortened to one line; its type name when the message is empty."""
    return shorten(str(error), limit) or type(error).__name__


def first_line(error: BaseException, limit: int = MESSAGE_LIMIT) -> str:
    """``Type: first line of the message``, shortened: Ray's and torch's errors go on for pages."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    return shorten(f"{type(error).__name__}: {lines[0] if lines else 'no message'}", limit)
