"""Fitness shaping for evolution strategies: raw fitness ``(P,)`` -> weights ``(P,)``.

NaN fitness (a failed member) counts as the worst value of the generation.
"""

from __future__ import annotations

import torch

from evosweep.evaluation.member_groups import group_slices

SHAPINGS = ("centered_rank", "zscore")


def failed_last(fitness: torch.Tensor) -> torch.Tensor:
    """NaN (a failed member) -> -inf: it sorts after every scored member and is never preferred."""
    return torch.nan_to_num(fitness.float(), nan=float("-inf"))


def failed_as_lowest(fitness: torch.Tensor) -> torch.Tensor:
    """NaN -> the lowest scored value (all zeros when none scored): finite, for weights."""
    fitness = fitness.float()
    failed = torch.isnan(fitness)
    if failed.all():
        return torch.zeros_like(fitness)
    return torch.where(failed, fitness[~failed].min(), fitness)


def tied_ranks(values: torch.Tensor) -> torch.Tensor:
    """0-based ranks ``(P,)`` where equal values share the mean of the ranks they span."""
    order = torch.argsort(values, stable=True)
    ranks = torch.empty(values.numel())
    ranks[order] = torch.arange(values.numel(), dtype=torch.float32)
    _, groups = torch.unique(values, return_inverse=True)  # (P,) index of each value's tie group
    sums = torch.zeros(int(groups.max()) + 1 if values.numel() else 0).index_add_(0, groups, ranks)
    counts = torch.bincount(groups, minlength=sums.numel()).float()
    return (sums / counts)[groups]


def centered_ranks(fitness: torch.Tensor) -> torch.Tensor:
    """Salimans et al. 2017: ranks scaled to [-0.5, 0.5]; tied members share their mean rank,
    so a generation in which every member scored the same gives all-zero weights. Failed
    members (NaN) rank below every scored one."""
    fitness = failed_last(fitness)
    return tied_ranks(fitness) / max(fitness.numel() - 1, 1) - 0.5


def zscores(fitness: torch.Tensor) -> torch.Tensor:
    """Qiu et al. 2025: ``(f - mean) / std``; all zeros when every member scored the same."""
    fitness = failed_as_lowest(fitness)
    std = fitness.std(unbiased=False)
    if not std > 0:
        return torch.zeros_like(fitness)
    return (fitness - fitness.mean()) / std


def shape_fitness(fitness: torch.Tensor, method: str) -> torch.Tensor:
    """Weights for the gradient estimate by ``method`` (one of :data:`SHAPINGS`)."""
    return centered_ranks(fitness) if method == "centered_rank" else zscores(fitness)


def shape_per_prompt(scores: torch.Tensor, method: str) -> torch.Tensor:
    """Per-prompt-group normalisation (EGGROLL): shape each prompt's scores ``(P,)`` across the
    members, then average over the ``N`` prompts: ``(P, N)`` -> weights ``(P,)``. Every prompt
    then counts alike, whatever the spread of its scores; prompts on which every member ties
    add nothing."""
    columns = [shape_fitness(scores[:, j], method) for j in range(scores.shape[1])]
    return torch.stack(columns, dim=1).mean(dim=1)


def shape_per_prompt_in_groups(scores: torch.Tensor, method: str, groups: int = 1) -> torch.Tensor:
    """:func:`shape_per_prompt` within each of ``groups`` equal, contiguous slices of the members
    ``(P, N)`` -> ``(P,)``: with ``task.minibatch_groups`` each group answered its own prompts,
    so column ``j`` compares members only inside a group. One group is :func:`shape_per_prompt`."""
    return torch.cat([shape_per_prompt(scores[part], method)
                      for part in group_slices(scores.shape[0], groups)])
