"""ES's two opt-in levers: per-prompt normalisation and a step size that follows the schedule."""

from __future__ import annotations

import pytest
import torch

from evosweep.algorithms.es import ESConfig, EvolutionStrategy
from evosweep.algorithms.protocol import TellsScoresPerPrompt
from evosweep.algorithms.schedules import ConstantSchedule, LinearDecay
from evosweep.algorithms.shaping import centered_ranks, shape_per_prompt, zscores
from evosweep.evaluation.evaluator import Evaluation
from evosweep.run import tell


def make_es(dim: int = 5, schedule=None, **fields) -> EvolutionStrategy:
    return EvolutionStrategy(ESConfig(**fields), torch.zeros(dim), schedule or ConstantSchedule(),
                             torch.Generator().manual_seed(0))


def test_per_prompt_shaping_weighs_every_prompt_alike():
    # prompt 0 spreads the members by 100, prompt 1 by 1 and in the opposite order
    scores = torch.tensor([[100.0, 1.0], [0.0, 2.0], [50.0, 3.0], [25.0, 4.0]])  # (P=4, N=2)
    weights = shape_per_prompt(scores, "zscore")
    expected = (zscores(scores[:, 0]) + zscores(scores[:, 1])) / 2
    torch.testing.assert_close(weights, expected)
    # the mean over prompts would follow prompt 0 alone
    assert torch.argsort(scores.mean(dim=1)).tolist() == torch.argsort(scores[:, 0]).tolist()
    assert torch.argsort(weights).tolist() != torch.argsort(scores[:, 0]).tolist()


def test_a_prompt_on_which_every_member_ties_adds_nothing():
    scores = torch.tensor([[0.0, 3.0], [0.0, 1.0], [0.0, 2.0], [0.0, 0.0]])
    torch.testing.assert_close(shape_per_prompt(scores, "centered_rank"), centered_ranks(scores[:, 1]) / 2)


def test_tell_scores_uses_per_prompt_weights_only_when_asked():
    scores = torch.tensor([[100.0, 1.0], [0.0, 2.0], [50.0, 3.0], [25.0, 4.0]])
    plain, grouped = make_es(population_size=4), make_es(population_size=4, normalise_per_prompt=True)
    reference = make_es(population_size=4)
    reference.tell(scores.mean(dim=1))
    plain.tell_scores(scores)
    grouped.tell_scores(scores)
    assert torch.equal(plain.best_member(), reference.best_member())
    assert not torch.allclose(grouped.best_member(), reference.best_member())


def test_the_run_hands_per_prompt_scores_to_an_algorithm_that_takes_them():
    scores = torch.tensor([[100.0, 1.0], [0.0, 2.0], [50.0, 3.0], [25.0, 4.0]])
    es = make_es(population_size=4, normalise_per_prompt=True)
    assert isinstance(es, TellsScoresPerPrompt)
    direct = make_es(population_size=4, normalise_per_prompt=True)
    direct.tell_scores(scores)
    tell(es, Evaluation(scores=scores))
    assert torch.equal(es.best_member(), direct.best_member())


def test_learning_rate_follows_the_schedule_only_when_asked():
    fixed = make_es(population_size=4, optimizer="sgd", schedule=LinearDecay(final=0.1), generations=3)
    tied = make_es(population_size=4, optimizer="sgd", schedule=LinearDecay(final=0.1), generations=3,
                   learning_rate_follows_schedule=True)
    rates = [(fixed.tell(torch.arange(4.0))["schedule/learning_rate"],
              tied.tell(torch.arange(4.0))["schedule/learning_rate"]) for _ in range(3)]
    assert [fixed_rate for fixed_rate, _ in rates] == [0.03] * 3
    assert [tied_rate for _, tied_rate in rates] == pytest.approx([0.03, 0.0165, 0.003])


def test_a_resumed_es_keeps_the_scheduled_learning_rate():
    es = make_es(population_size=4, schedule=LinearDecay(final=0.1), generations=3,
                 learning_rate_follows_schedule=True)
    es.tell(torch.arange(4.0))
    resumed = make_es(population_size=4, schedule=LinearDecay(final=0.1), generations=3,
                      learning_rate_follows_schedule=True)
    resumed.load_state_dict(es.state_dict())
    assert es.tell(torch.arange(4.0)) == resumed.tell(torch.arange(4.0))
    assert torch.equal(es.best_member(), resumed.best_member())
