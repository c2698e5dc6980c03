"""algorithm=sft: supervised LoRA tuning through the batched layers, logged like every algorithm."""

from __future__ import annotations

import pytest
import torch
from conftest import TINY_RUN
from peft import PeftModel

from evosweep.algorithms.context import AlgorithmContext
from evosweep.algorithms.sft import SFTConfig
from evosweep.errors import ConfigError
from evosweep.evaluation.prompts import encode_targets
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.models.loading import load_model
from evosweep.run import run
from evosweep.settings.build import build_settings
from evosweep.state.checkpoint import load_checkpoint
from evosweep.tasks.pairs import Pair

PAIRS = [Pair("bonjour", "hello"), Pair("chat", "cat"), Pair("chien", "dog")]


def _sft(loaded, **fields) -> tuple:
    loaded.settings.lora.dropout = 0.0  # deterministic, comparable with peft
    layout = LoraLayout.from_model(loaded.model, loaded.settings.lora)
    member = layout.initial_member(torch.Generator().manual_seed(0))
    context = AlgorithmContext(initial_member=member, generator=torch.Generator().manual_seed(1),
                               selection=None, crossover=None, mutation=None, schedule=None,
                               loaded=loaded, layout=layout, lora=BatchedLora(loaded.model, layout),
                               train_pairs=PAIRS)
    return SFTConfig(**fields).build(context), layout, member


def test_the_loss_and_gradient_equal_peft_s(tiny_gpt2, tmp_path):
    """One step's loss is peft's token NLL of the references; only the LoRA vector moves."""
    sft, layout, member = _sft(tiny_gpt2, learning_rate=1e-2)
    base_before = {name: p.clone() for name, p in tiny_gpt2.model.named_parameters()}
    loss, tokens = sft.step()
    folder = layout.save_adapter(member, tmp_path / "start", tiny_gpt2.settings.name_or_path)
    fresh = load_model(tiny_gpt2.settings)
    peft_model = PeftModel.from_pretrained(fresh.model, str(folder)).eval()
    encoded = encode_targets(fresh, PAIRS, True, "cpu")
    with torch.no_grad():
        logits = peft_model(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"]).logits
    logprobs = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    picked = logprobs.gather(2, encoded["input_ids"][:, 1:, None]).squeeze(2)
    predicts = encoded["targets"][:, 1:]
    expected = -((picked * predicts).sum(1) / predicts.sum(1)).mean()
    assert loss == pytest.approx(float(expected), abs=1e-4)
    assert tokens == int(predicts.sum())
    assert not torch.equal(sft.best_member(), member)  # the adapter moved
    for name, p in tiny_gpt2.model.named_parameters():  # the frozen model did not
        assert torch.equal(p, base_before[name]), name


def test_training_lowers_the_loss(tiny_gpt2):
    sft, _, _ = _sft(tiny_gpt2, learning_rate=3e-2)
    losses = [sft.step()[0] for _ in range(15)]
    assert losses[-1] < losses[0] - 0.5, losses


def test_batches_cover_every_pair_each_epoch(tiny_gpt2):
    sft, _, _ = _sft(tiny_gpt2, batch_size=2)
    seen = [pair for _ in range(3) for pair in sft._batch()]  # 6 draws = 2 epochs of 3 pairs
    assert sorted(seen[:3], key=str) == sorted(PAIRS, key=str)
    assert sorted(seen[3:], key=str) == sorted(PAIRS, key=str)


@pytest.mark.parametrize("overrides,field", [
    (["algorithm.population_size=2"], "algorithm.population_size"),
    (["algorithm.learning_rate=0"], "algorithm.learning_rate"),
    (["algorithm.batch_size=0"], "algorithm.batch_size"),
])
def test_bad_sft_settings_name_the_field(compose_config, overrides, field):
    with pytest.raises(ConfigError) as error:
        build_settings(compose_config(["algorithm=sft", *overrides]))
    assert error.value.field == field


def test_an_sft_run_logs_the_shared_metrics_and_its_cost(compose_config, tmp_path):
    overrides = [o for o in TINY_RUN if not o.startswith("algorithm.population_size")]
    run(compose_config(overrides + ["algorithm=sft", "algorithm.learning_rate=0.01"]), tmp_path)
    history = load_checkpoint(tmp_path)["history"]
    assert len(history) == 4
    for row in history:
        assert {"fitness/best", "heldout/best", "heldout/exact", "heldout/answer_words",
                "sft/loss", "perf/train_tokens", "perf/reward_evals"} <= set(row)
        assert row["perf/train_tokens"] > 0
    assert history[-1]["sft/loss"] < history[0]["sft/loss"]
