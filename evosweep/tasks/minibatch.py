"""Fresh train pairs each generation (``task.minibatch``), so elites cannot overfit one fixed set."""

from __future__ import annotations

from typing import Any

import torch

from evosweep.tasks.epoch_sampler import EpochSampler
from evosweep.tasks.pairs import Pair


class TrainBatches:
    """Draws ``size`` train pairs per generation, in shuffled epochs (:class:`EpochSampler`).

    ``size`` None (or at least the split) hands back every pair, every generation.
    Its own seeded generator keeps the algorithm's random stream unchanged, and its
    state is checkpointed, so a resumed run draws the same batches.
    """

    def __init__(self, pairs: list[Pair], size: int | None, seed: int) -> None:
        self.pairs = pairs
        self.size = size if size is not None and size < len(pairs) else None
        self.generator = torch.Generator().manual_seed(seed + 104729)  # not the algorithm's stream
        self.sampler = EpochSampler(len(pairs), self.generator)

    def next(self) -> list[Pair]:
        """This generation's train pairs."""
        if self.size is None:
            return self.pairs
        return [self.pairs[index] for index in self.sampler.draw(self.size)]

    def next_groups(self, count: int) -> list[list[Pair]]:
        """``count`` draws for this generation, one per member group (``task.minibatch_groups``);
        one group draws exactly what :meth:`next` would."""
        return [self.next() for _ in range(count)]

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state(), **self.sampler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.sampler.load_state_dict(state)
