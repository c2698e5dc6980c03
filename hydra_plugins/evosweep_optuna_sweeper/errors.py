"""Errors the sweeper raises; Hydra prints them as one line (no stack trace)."""

from collections.abc import Iterator
from contextlib import contextmanager

from hydra.errors import CompactHydraException

from evosweep.errors import ConfigError


class SweeperConfigError(CompactHydraException, ValueError):
    """A sweeper setting is invalid; the message starts with the field's dotted path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class SweepError(CompactHydraException, RuntimeError):
    """The sweep stopped: too many failed trials, or a job's value does not fit the config."""


@contextmanager
def as_sweeper_errors() -> Iterator[None]:
    """Re-raise the core's ConfigError as a SweeperConfigError (Hydra prints it in one line)."""
    try:
        yield
    except ConfigError as error:
        raise SweeperConfigError(error.field, error.message) from None
