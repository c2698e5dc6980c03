"""Batched multi-LoRA evaluation equals evaluating each member alone through peft."""

from __future__ import annotations

import pytest
import torch
from peft import PeftModel

from evosweep.evaluate import EvalSettings, PopulationEvaluator, chunk_grid
from evosweep.lora_batch import BatchedLora
from evosweep.models import load_model
from evosweep.population import LoraLayout
from evosweep.rewards.likelihood import LikelihoodReward
from evosweep.rewards.sacrebleu_metrics import ChrfReward
from evosweep.tasks import Pair

PAIRS = [Pair("hello there", "general"), Pair("a", "bc"), Pair("longer prompt here!", "x")]


def _population(layout: LoraLayout, size: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(7)
    base = layout.initial_member(generator)
    noise = torch.randn(size, layout.dim, generator=generator) * 0.3
    return base + noise  # (P, D)


def _peft_alone(settings, layout, member, tmp_path, name):
    folder = layout.save_adapter(member, tmp_path / name, settings.name_or_path)
    fresh = load_model(settings)
    return PeftModel.from_pretrained(fresh.model, str(folder)).eval(), fresh


@pytest.mark.parametrize("fixture", ["tiny_gpt2", "tiny_llama"])
@pytest.mark.parametrize("batch_size", [64, 4])
def test_batched_greedy_tokens_match_peft_member_by_member(fixture, batch_size, tmp_path, request):
    loaded = request.getfixturevalue(fixture)
    layout = LoraLayout.from_model(loaded.model, loaded.settings.lora)
    population = _population(layout, 3)
    evaluator = PopulationEvaluator(loaded, BatchedLora(loaded.model, layout), ChrfReward(),
                                    EvalSettings(batch_size=batch_size, max_new_tokens=6))
    batched = evaluator.generate(population, PAIRS)
    for index in range(population.shape[0]):
        peft_model, fresh = _peft_alone(loaded.settings, layout, population[index], tmp_path,
                                        f"m{index}")
        for column, pair in enumerate(PAIRS):
            ids = fresh.tokenizer(pair.prompt, return_tensors="pt")
            out = peft_model.generate(**ids, max_new_tokens=6, do_sample=False,
                                      pad_token_id=fresh.tokenizer.pad_token_id)
            alone = fresh.tokenizer.decode(out[0, ids["input_ids"].shape[1]:],
                                           skip_special_tokens=True).strip()
            assert batched[index][column] == alone, (index, column)


@pytest.mark.parametrize("fixture", ["tiny_gpt2", "tiny_llama"])
def test_batched_likelihood_matches_peft_logits(fixture, tmp_path, request):
    loaded = request.getfixturevalue(fixture)
    layout = LoraLayout.from_model(loaded.model, loaded.settings.lora)
    population = _population(layout, 3)
    evaluator = PopulationEvaluator(loaded, BatchedLora(loaded.model, layout),
                                    LikelihoodReward(append_eos=True), EvalSettings(batch_size=5))
    scores = evaluator.evaluate(population, PAIRS).scores  # (P, N)
    tokenizer = loaded.tokenizer
    for index in range(population.shape[0]):
        peft_model, _ = _peft_alone(loaded.settings, layout, population[index], tmp_path,
                                    f"m{index}")
        for column, pair in enumerate(PAIRS):
            prompt = tokenizer(pair.prompt)["input_ids"]
            target = tokenizer(pair.reference, add_special_tokens=False)["input_ids"]
            target = target + [tokenizer.eos_token_id]
            ids = torch.tensor([prompt + target])
            with torch.no_grad():
                logprobs = torch.log_softmax(peft_model(ids).logits[0, :-1], dim=-1)
            picked = logprobs[torch.arange(len(prompt) - 1, ids.shape[1] - 1),
                              torch.tensor(target)]
            assert scores[index, column].item() == pytest.approx(picked.mean().item(), abs=1e-4)


def test_chunk_grid_covers_every_cell_once():
    for members, prompts, batch in [(8, 8, 64), (32, 4, 10), (3, 50, 16), (5, 7, 1)]:
        seen = torch.zeros(members, prompts, dtype=torch.int32)
        for member_slice, prompt_slice in chunk_grid(members, prompts, batch):
            rows = (member_slice.stop - member_slice.start) * (prompt_slice.stop - prompt_slice.start)
            assert rows <= max(batch, 1) or prompts > batch
            seen[member_slice, prompt_slice] += 1
        assert torch.all(seen == 1)
