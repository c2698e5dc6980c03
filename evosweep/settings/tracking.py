"""``tracking.*``: where runs are recorded (one class for runs and the sweeper)."""

from __future__ import annotations

from dataclasses import dataclass

from evosweep.errors import ConfigError

DEFAULT_STORE = "sqlite:///outputs/mlflow.db"
DEFAULT_ARTIFACTS = "outputs/mlartifacts"


@dataclass
class TrackingSettings:
    """``tracking.*``: where runs are recorded."""

    enabled: bool = True
    uri: str = DEFAULT_STORE
    experiment: str = "evosweep"
    artifact_location: str = DEFAULT_ARTIFACTS
    run_name: str | None = None
    # CPU, memory (and GPU where MLflow can read it) as system/* metrics every this many
    # seconds, beside the run's own; null: none
    system_metrics_every_s: float | None = 30.0

    def __post_init__(self) -> None:
        if self.system_metrics_every_s is not None and self.system_metrics_every_s <= 0:
            raise ConfigError("tracking.system_metrics_every_s", "give seconds > 0, or null for none")
        if self.enabled and not self.experiment:
            raise ConfigError("tracking.experiment", "give the MLflow experiment a name")
        if not self.uri:
            raise ConfigError("tracking.uri", f"give a store, e.g. {DEFAULT_STORE}")
