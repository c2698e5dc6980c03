"""``task.*``: where the (prompt, reference) pairs come from."""

from __future__ import annotations

from dataclasses import dataclass, field

from evosweep.errors import ConfigError


@dataclass
class TaskSettings:
    """Where the pairs come from (``task.*`` in the config)."""

    name: str = "custom"
    train_path: str | None = None
    eval_path: str | None = None
    # a second held-out set (other items, another prompt form) checked before and after the
    # run only: do the adapter's answers transfer beyond the held-out split's own form?
    transfer_path: str | None = None
    train_pairs: list[dict] = field(default_factory=list)
    eval_pairs: list[dict] = field(default_factory=list)
    max_train: int | None = None
    max_eval: int | None = None
    # train pairs scored per generation, a fresh draw each generation (null = all of them)
    minibatch: int | None = None
    # how many different minibatches a generation draws: the population is cut into this many
    # contiguous groups (ES's mirrored pairs stay together), each scored on its own draw
    minibatch_groups: int = 1
    # a Hydra ``_target_`` dict whose call returns (train pairs, held-out pairs)
    generator: dict | None = None
    # the held-out measures: text (chrF, characters per answer) or countdown (well formed, correct)
    measures: str = "text"

    def __post_init__(self) -> None:
        for name in ("train_path", "eval_path", "transfer_path"):
            if getattr(self, name) == "???":
                raise ConfigError(f"task.{name}", f"is required: add task.{name}=path/to/file.jsonl")
        if self.train_path is None and not self.train_pairs and self.generator is None:
            raise ConfigError("task.train_path", "give a JSONL file, task.train_pairs or task.generator")
        from evosweep.tasks.kinds import measures_for  # the one registry of kinds; imported late

        measures_for(self.measures)
        for name in ("max_train", "max_eval", "minibatch"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"task.{name}", f"must be >= 1 or null, got {value}")
        if self.minibatch_groups < 1:
            raise ConfigError("task.minibatch_groups", f"must be >= 1, got {self.minibatch_groups}")
        if self.minibatch_groups > 1 and self.minibatch is None:
            raise ConfigError("task.minibatch_groups", "needs task.minibatch (the pairs each group draws)")
