"""Schedules: the factor applied to the base mutation scale at each generation."""

from __future__ import annotations


class ConstantSchedule:
    """The base scale every generation."""

    def factor(self, generation: int, total: int) -> float:
        return 1.0

    def observe(self, success_rate: float) -> None:
        """Feedback from the last generation (used by adaptive schedules only)."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass
