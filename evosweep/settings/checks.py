"""Small validators shared by the config dataclasses (TRL-style ``__post_init__``)."""

from __future__ import annotations

from evosweep.errors import ConfigError


def require_positive(field: str, value: float) -> None:
    """Reject zero or negative values."""
    if not value > 0:
        raise ConfigError(field, f"must be > 0, got {value!r}")


def require_non_negative(field: str, value: float) -> None:
    """Reject negative values."""
    if value < 0:
        raise ConfigError(field, f"must be >= 0, got {value!r}")


def require_unit_interval(field: str, value: float) -> None:
    """Reject values outside [0, 1]."""
    if not 0.0 <= value <= 1.0:
        raise ConfigError(field, f"must be within [0, 1], got {value!r}")


def require_choice(field: str, value: str, choices: tuple[str, ...]) -> None:
    """Reject a value that is not one of ``choices``."""
    if value not in choices:
        raise ConfigError(field, f"must be one of {', '.join(choices)}; got {value!r}")
