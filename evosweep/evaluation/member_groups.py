"""Members in groups, each group scored on its own train pairs (``task.minibatch_groups``).

One shared minibatch a generation scores every member on the same few pairs; several
groups see more of the train split per generation at the same number of evaluations
(Green0-0/propagate's different minibatch per member). Groups are contiguous slices of
the population, so ES's mirrored pairs, which sit side by side, always share their pairs.
"""

from __future__ import annotations

import torch

from evosweep.evaluation.evaluator import Evaluation
from evosweep.evaluation.protocol import Evaluator
from evosweep.rewards.guarded import require_some_member_scored
from evosweep.tasks.pairs import Pair


def group_slices(members: int, groups: int) -> list[slice]:
    """``groups`` contiguous, equal slices of ``members`` rows."""
    if groups < 1 or members % groups:
        raise ValueError(f"cannot cut {members} members into {groups} equal groups")
    size = members // groups
    return [slice(start, start + size) for start in range(0, members, size)]


def evaluate_in_groups(evaluator: Evaluator, population: torch.Tensor,
                       batches: list[list[Pair]]) -> Evaluation:
    """Group ``g`` of ``population`` ``(P, D)`` scored on ``batches[g]``: scores ``(P, N)`` in
    member order; stops, as :meth:`evaluate` does, only when every member's reward failed."""
    if len(batches) == 1:
        return evaluator.evaluate(population, batches[0])
    parts = [evaluator.score(population[part], pairs)
             for part, pairs in zip(group_slices(population.shape[0], len(batches)), batches, strict=True)]
    scores = torch.cat([part.scores for part in parts])  # (P, N)
    completions = None
    if all(part.completions is not None for part in parts):
        completions = [answers for part in parts for answers in part.completions or []]
    if evaluator.score_texts is not None:
        require_some_member_scored(scores, evaluator.score_texts)
    return Evaluation(scores=scores, completions=completions)
