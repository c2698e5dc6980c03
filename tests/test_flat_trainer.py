"""The flat-vector Adam loop shared by sft and the policy-gradient trainer."""

from __future__ import annotations

import torch

from evosweep.algorithms.flat_trainer import FlatAdamTrainer


def _loss(trainer: FlatAdamTrainer) -> torch.Tensor:
    return ((trainer.policy - torch.arange(4.0)) ** 2).sum()


def test_masked_entries_never_move_and_the_rest_follow_the_gradient():
    trainer = FlatAdamTrainer(torch.zeros(4), torch.device("cpu"), 0.1, 1.0,
                              mask=torch.tensor([1.0, 1.0, 0.0, 1.0]))
    for _ in range(3):
        trainer.update(_loss(trainer))
    member = trainer.member()
    assert member[2] == 0 and member[0] == 0  # masked; already at its target (zero gradient)
    assert member[1] > 0 and member[3] > 0


def test_state_round_trip_repeats_the_steps():
    first = FlatAdamTrainer(torch.zeros(4), torch.device("cpu"), 0.1, 0.5)
    first.update(_loss(first))
    second = FlatAdamTrainer(torch.ones(4), torch.device("cpu"), 0.1, 0.5)
    second.load_state_dict(first.state_dict())
    for trainer in (first, second):
        trainer.update(_loss(trainer))
    assert torch.equal(first.member(), second.member())
