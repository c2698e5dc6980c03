"""One epoch sampler for sft's batches and task.minibatch: fair over epochs, no repeats in a draw."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from evosweep.tasks.epoch_sampler import EpochSampler


@pytest.mark.parametrize("n,count", [(5, 2), (7, 3), (6, 4), (8, 8), (9, 1), (10, 4)])
def test_over_k_epochs_every_index_is_drawn_k_times_and_never_twice_in_a_draw(n, count):
    """``n`` draws of ``count`` are ``count`` epochs; most of these sizes make draws span boundaries."""
    sampler = EpochSampler(n, torch.Generator().manual_seed(3))
    drawn: Counter[int] = Counter()
    for _ in range(n):
        batch = sampler.draw(count)
        assert len(batch) == count and len(set(batch)) == count, batch
        drawn.update(batch)
    assert drawn == Counter({index: count for index in range(n)})


def test_a_boundary_index_already_in_the_draw_waits_for_the_next_draw():
    """Epoch 1 leaves index 0; epoch 2 would give 0 first: it is passed over, then drawn next."""
    seed = next(seed for seed in range(100)
                if torch.randperm(3, generator=torch.Generator().manual_seed(seed))[-1] == 0)
    last, middle, _ = torch.randperm(3, generator=torch.Generator().manual_seed(seed)).tolist()
    sampler = EpochSampler(3, torch.Generator().manual_seed(seed))
    sampler.order = [0]  # the rest of epoch 1
    assert sampler.draw(2) == [0, middle]
    assert sampler.draw(2) == [0, last]  # epoch 2 goes on: nothing dropped


def test_draws_without_a_boundary_are_plain_epoch_shuffling():
    """With ``count`` dividing ``n`` the draws are the permutations read from their end."""
    generator = torch.Generator().manual_seed(11)
    sampler = EpochSampler(6, generator)
    draws = [index for _ in range(6) for index in sampler.draw(3)]
    generator.manual_seed(11)
    epochs = [torch.randperm(6, generator=generator).tolist() for _ in range(3)]
    expected = [index for epoch in epochs for index in reversed(epoch)]
    assert draws == expected


def test_state_round_trip_repeats_the_draws():
    first = EpochSampler(7, torch.Generator().manual_seed(5))
    first.draw(3)
    state, generator_state = first.state_dict(), first.generator.get_state()
    second = EpochSampler(7, torch.Generator())
    second.load_state_dict(state)
    second.generator.set_state(generator_state)
    assert [first.draw(3) for _ in range(4)] == [second.draw(3) for _ in range(4)]


def test_more_than_n_at_once_is_refused():
    with pytest.raises(ValueError, match="4 different indices out of 3"):
        EpochSampler(3, torch.Generator()).draw(4)
