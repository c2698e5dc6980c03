"""Schedules: the factor applied to a base scale (GA mutation, ES sigma) each generation.

``factor(generation, total)`` is read before breeding generation
``generation + 1``; ``observe(success_rate)`` feeds back the share of the
last generation's new candidates that beat the best fitness seen before
(used by the adaptive 1/5th rule only). State is checkpointed.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from evosweep.errors import ConfigError
from evosweep.settings.checks import require_positive, require_unit_interval


class Schedule(Protocol):
    """``schedule``: a factor per generation, feedback from each, and checkpointed state."""

    def factor(self, generation: int, total: int) -> float:
        """The factor for breeding ``generation`` of ``total``."""
        ...

    def observe(self, success_rate: float) -> None:
        """The share of the last generation's new candidates that beat the best before them."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def _progress(generation: int, total: int) -> float:
    """0 at the first generation, 1 at the last."""
    return min(1.0, generation / max(total - 1, 1))


def _decay_progress(generation: int, total: int, hold: float) -> float:
    """0 until ``hold`` of the run has passed, then straight on to 1 at the last generation."""
    return max(0.0, _progress(generation, total) - hold) / (1.0 - hold)


def _check_hold(hold: float) -> float:
    """``hold`` itself, once it is a share of the run in [0, 1)."""
    if not 0.0 <= hold < 1.0:
        raise ConfigError("schedule.hold",
                          f"must be in [0, 1) (the share of the run kept at full scale), got {hold}")
    return hold


class ConstantSchedule:
    """The base scale every generation."""

    def factor(self, generation: int, total: int) -> float:
        return 1.0

    def observe(self, success_rate: float) -> None:
        """Feedback from the last generation (used by adaptive schedules only)."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class LinearDecay(ConstantSchedule):
    """From 1 straight down to ``final`` at the last generation.

    ``hold`` keeps the factor at 1 for that share of the run first (0: decay from the start).
    """

    def __init__(self, final: float = 0.1, hold: float = 0.0) -> None:
        require_unit_interval("schedule.final", final)
        self.final = final
        self.hold = _check_hold(hold)

    def factor(self, generation: int, total: int) -> float:
        return 1.0 + (self.final - 1.0) * _decay_progress(generation, total, self.hold)


class CosineDecay(ConstantSchedule):
    """Half a cosine from 1 down to ``final``: slow at both ends, fastest midway.

    ``hold`` keeps the factor at 1 for that share of the run first (0: decay from the start).
    """

    def __init__(self, final: float = 0.1, hold: float = 0.0) -> None:
        require_unit_interval("schedule.final", final)
        self.final = final
        self.hold = _check_hold(hold)

    def factor(self, generation: int, total: int) -> float:
        cosine = math.cos(math.pi * _decay_progress(generation, total, self.hold))
        return self.final + (1.0 - self.final) * 0.5 * (1.0 + cosine)


class ExponentialDecay(ConstantSchedule):
    """``gamma ** generation``."""

    def __init__(self, gamma: float = 0.9) -> None:
        require_positive("schedule.gamma", gamma)
        self.gamma = gamma

    def factor(self, generation: int, total: int) -> float:
        return self.gamma**generation


class OneFifthRule(ConstantSchedule):
    """Rechenberg's adaptive rule: grow the scale by ``step`` when more than ``target``
    of the new candidates improved on the best so far, shrink it by ``step`` when fewer did.

    The factor stays within ``[min_factor, max_factor]``.
    """

    def __init__(self, target: float = 0.2, step: float = 1.5, min_factor: float = 0.01,
                 max_factor: float = 100.0) -> None:
        require_unit_interval("schedule.target", target)
        if not step > 1.0:
            raise ConfigError("schedule.step", f"must be > 1 (the factor grows or shrinks by it), got {step}")
        require_positive("schedule.min_factor", min_factor)
        if max_factor < min_factor:
            raise ConfigError("schedule.max_factor", f"must be >= schedule.min_factor ({min_factor})")
        self.target = target
        self.step = step
        self.min_factor = min_factor
        self.max_factor = max_factor
        self.current = 1.0

    def factor(self, generation: int, total: int) -> float:
        return self.current

    def observe(self, success_rate: float) -> None:
        if success_rate > self.target:
            self.current *= self.step
        elif success_rate < self.target:
            self.current /= self.step
        self.current = min(self.max_factor, max(self.min_factor, self.current))

    def state_dict(self) -> dict[str, Any]:
        return {"current": self.current}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.current = float(state["current"])
