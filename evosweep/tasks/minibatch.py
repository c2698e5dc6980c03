"""Fresh train pairs each generation (``task.minibatch``), so elites cannot overfit one fixed set."""

from __future__ import annotations

import torch

from evosweep.tasks.pairs import Pair


class TrainBatches:
    """Draws ``size`` train pairs per generation without replacement within an epoch.

    ``size`` None (or at least the split) hands back every pair, every generation.
    Its own seeded generator keeps the algorithm's random stream unchanged, and its
    state is checkpointed, so a resumed run draws the same batches.
    """

    def __init__(self, pairs: list[Pair], size: int | None, seed: int) -> None:
        self.pairs = pairs
        self.size = size if size is not None and size < len(pairs) else None
        self.generator = torch.Generator().manual_seed(seed + 104729)  # not the algorithm's stream
        self.order: list[int] = []

    def next(self) -> list[Pair]:
        """This generation's train pairs."""
        if self.size is None:
            return self.pairs
        chosen: list[int] = []
        while len(chosen) < self.size:
            if not self.order:
                self.order = torch.randperm(len(self.pairs), generator=self.generator).tolist()
            index = self.order.pop()
            if index not in chosen:
                chosen.append(index)
        return [self.pairs[index] for index in chosen]

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(), "order": list(self.order)}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.order = list(state["order"])
