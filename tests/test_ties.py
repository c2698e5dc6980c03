"""Tied fitness gets tied weights: a generation where every member scores the same moves nothing."""

from __future__ import annotations

import pytest
import torch
from test_es import make_es

from evosweep.algorithms.operators import RankSelection
from evosweep.algorithms.shaping import centered_ranks, tied_ranks, zscores


def test_tied_members_share_their_mean_rank():
    assert tied_ranks(torch.tensor([5.0, 1.0, 5.0, 3.0])).tolist() == [2.5, 0.0, 2.5, 1.0]
    assert tied_ranks(torch.tensor([2.0, 2.0, 2.0])).tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("shaping", [centered_ranks, zscores])
def test_flat_fitness_gives_all_zero_weights(shaping):
    assert shaping(torch.zeros(8)).tolist() == [0.0] * 8
    assert shaping(torch.full((6,), float("nan"))).tolist() == [0.0] * 6  # every member failed


def test_centered_ranks_of_partial_ties_sum_to_zero():
    weights = centered_ranks(torch.tensor([0.0, 1.0, 0.0, 0.0, 1.0, 0.0]))
    assert weights[0] == weights[2] == weights[3] == weights[5] and weights[1] == weights[4]
    assert float(weights.sum()) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("shaping", ["centered_rank", "zscore"])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_es_center_does_not_move_on_a_generation_of_equal_scores(shaping, optimizer):
    """Every member scores 0 (e.g. exact match, nobody right): the step is exactly zero."""
    es = make_es(dim=50, population_size=16, sigma=0.03, learning_rate=0.03, optimizer=optimizer,
                 fitness_shaping=shaping)
    before = es.best_member()
    for _ in range(3):
        es.ask()
        metrics = es.tell(torch.zeros(16))
        assert metrics["es/grad_norm"] == 0.0 and metrics["es/step_norm"] == 0.0
    assert torch.equal(es.best_member(), before)


def test_rank_selection_draws_tied_members_equally():
    fitness = torch.tensor([1.0, 1.0, 1.0, 1.0])
    drawn = RankSelection()(fitness, 4000, torch.Generator().manual_seed(0))
    counts = torch.bincount(drawn, minlength=4).float()
    assert float(counts.min()) > 900  # about 1000 each; index order used to make the last 4x the first
