"""Errors the sweeper raises; Hydra prints them as one line (no stack trace)."""

from hydra.errors import CompactHydraException


class SweeperConfigError(CompactHydraException, ValueError):
    """A sweeper setting is invalid; the message starts with the field's dotted path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class SweepError(CompactHydraException, RuntimeError):
    """The sweep stopped: too many failed trials, or a job's value does not fit the config."""
