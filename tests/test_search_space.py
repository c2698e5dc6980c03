"""algorithm.evolve=lora_b moves only B; task.minibatch draws fresh train pairs each generation."""

from __future__ import annotations

import pytest
import torch
from conftest import TIMING, TINY_RUN

from evosweep.algorithms.context import AlgorithmContext
from evosweep.algorithms.es import ESConfig
from evosweep.algorithms.ga import GAConfig
from evosweep.algorithms.operators import GaussianMutation, TruncationSelection, UniformCrossover
from evosweep.algorithms.schedules import ConstantSchedule
from evosweep.errors import ConfigError
from evosweep.lora.layout import LoraLayout
from evosweep.run import run
from evosweep.settings.build import build_settings
from evosweep.state.checkpoint import load_checkpoint
from evosweep.tasks.minibatch import TrainBatches
from evosweep.tasks.pairs import Pair


def _context(loaded) -> tuple[AlgorithmContext, LoraLayout]:
    layout = LoraLayout.from_model(loaded.model, loaded.settings.lora)
    context = AlgorithmContext(initial_member=layout.initial_member(torch.Generator().manual_seed(0)),
                               generator=torch.Generator().manual_seed(1), selection=TruncationSelection(2),
                               crossover=UniformCrossover(), mutation=GaussianMutation(),
                               schedule=ConstantSchedule(), layout=layout)
    return context, layout


@pytest.mark.parametrize("config", [GAConfig(population_size=6, elite=1, evolve="lora_b"),
                                    ESConfig(population_size=6, evolve="lora_b", sigma=0.1)])
def test_lora_b_keeps_every_a_at_its_init(tiny_gpt2, config):
    context, layout = _context(tiny_gpt2)
    algorithm = config.build(context)
    a_entries = ~layout.b_mask()
    start = context.initial_member
    for generation in range(3):
        population = algorithm.ask()
        assert torch.equal(population[:, a_entries], start[a_entries].expand(population.shape[0], -1))
        assert (population[:, ~a_entries] != 0).any()  # B moved
        algorithm.tell(torch.arange(6.0) + generation)
    assert torch.equal(algorithm.best_member()[a_entries], start[a_entries])


def test_b_mask_marks_exactly_the_b_matrices(tiny_gpt2):
    layout = LoraLayout.from_model(tiny_gpt2.model, tiny_gpt2.settings.lora)
    mask = layout.b_mask()
    member = torch.arange(layout.dim, dtype=torch.float32)
    for slot in layout.slots:
        a, b = layout.split(member[None], slot)
        assert not mask[a.flatten().long()].any() and mask[b.flatten().long()].all()


def test_unknown_evolve_is_named(compose_config):
    with pytest.raises(ConfigError) as error:
        build_settings(compose_config(["algorithm.evolve=lora_a"]))
    assert error.value.field == "algorithm.evolve"


def test_minibatches_are_fresh_draws_covering_each_epoch():
    pairs = [Pair(str(i), str(i)) for i in range(10)]
    batches = TrainBatches(pairs, 4, seed=0)
    drawn = [batches.next() for _ in range(5)]  # 20 pairs = 2 epochs
    assert all(len(batch) == 4 and len(set(batch)) == 4 for batch in drawn)
    assert drawn[0] != drawn[1]
    assert set(drawn[0] + drawn[1]) | set(drawn[2][:2]) == set(pairs)
    assert all(sum(batch.count(pair) for batch in drawn) == 2 for pair in pairs)  # none dropped
    assert TrainBatches(pairs, None, seed=0).next() == pairs
    assert TrainBatches(pairs, 50, seed=0).next() == pairs


def test_minibatch_runs_resume_exactly(compose_config, tmp_path, monkeypatch):
    overrides = [o for o in TINY_RUN if o != "task=bonjour"] + [
        "task=fr_en", "task.max_train=6", "task.max_eval=2", "task.minibatch=2", "algorithm.evolve=lora_b"]
    run(compose_config(overrides), tmp_path / "whole")
    history = load_checkpoint(tmp_path / "whole")["history"]
    assert all(row["perf/reward_evals"] == 6 * 2 for row in history)  # P=6 x 2 pairs
    from evosweep.evaluation.evaluator import PopulationEvaluator

    calls, original = {"n": 0}, PopulationEvaluator.evaluate

    def dies(self, population, pairs, instructions=None):
        calls["n"] += 1
        if calls["n"] == 1 + 2 * 2 + 1:  # base, 2 generations, generation 2's train evaluation
            raise KeyboardInterrupt
        return original(self, population, pairs, instructions)

    monkeypatch.setattr(PopulationEvaluator, "evaluate", dies)
    with pytest.raises(KeyboardInterrupt):
        run(compose_config(overrides), tmp_path / "killed")
    monkeypatch.undo()
    run(compose_config(overrides + ["resume=true"]), tmp_path / "killed")
    resumed = load_checkpoint(tmp_path / "killed")["history"]
    drop = TIMING
    assert [{k: v for k, v in row.items() if k not in drop} for row in resumed] == \
        [{k: v for k, v in row.items() if k not in drop} for row in history]
