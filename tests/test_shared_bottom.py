"""model.lora.layers + the shared frozen bottom: same numbers as peft, member by member."""

from __future__ import annotations

import json

import pytest
import torch
from test_lora_batch import HEADED, PAIRS, _peft_alone, _population, assert_agrees_with_peft_greedy

from evosweep.errors import ConfigError
from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.rewards.likelihood import LikelihoodReward
from evosweep.rewards.sacrebleu_metrics import ChrfReward
from evosweep.settings.evaluation import EvalSettings


def _top_layer_only(loaded):
    loaded.settings.lora.layers = 1  # the top 1 of the tiny models' 2 layers: layer 0 is shared
    return LoraLayout.from_model(loaded.model, loaded.settings.lora)


def _peft_logprob(peft_model, tokenizer, pair) -> float:
    prompt = tokenizer(pair.prompt)["input_ids"]
    target = tokenizer(pair.reference, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    ids = torch.tensor([prompt + target])
    with torch.no_grad():
        logprobs = torch.log_softmax(peft_model(ids).logits[0, :-1], dim=-1)
    return logprobs[torch.arange(len(prompt) - 1, ids.shape[1] - 1), torch.tensor(target)].mean().item()


@pytest.mark.parametrize("fixture", ["tiny_gpt2", "tiny_llama"])
def test_layers_pick_the_top_k_and_peft_reloads_them(fixture, tmp_path, request):
    loaded = request.getfixturevalue(fixture)
    layout = _top_layer_only(loaded)
    assert {slot.layer for slot in layout.slots} == {1} and layout.first_adapted_layer == 1
    folder = layout.save_adapter(_population(layout, 1)[0], tmp_path / "a", loaded.settings.name_or_path)
    saved = json.loads((folder / "adapter_config.json").read_text())
    assert saved["layers_to_transform"] == [1]
    peft_model, _ = _peft_alone(loaded.settings, layout, _population(layout, 1)[0], tmp_path, "b")
    adapted = {name.split(".lora_A")[0] for name, _ in peft_model.named_parameters() if "lora_A" in name}
    assert adapted == {f"base_model.model.{slot.module_name}" for slot in layout.slots}


@pytest.mark.parametrize("fixture", ["tiny_gpt2", "tiny_llama"])
@pytest.mark.parametrize("pairs", [PAIRS, HEADED])
def test_shared_bottom_likelihood_equals_peft_member_by_member(fixture, pairs, tmp_path, request):
    loaded = request.getfixturevalue(fixture)
    layout = _top_layer_only(loaded)
    population = _population(layout, 3)
    evaluator = PopulationEvaluator(loaded, BatchedLora(loaded.model, layout),
                                    LikelihoodReward(append_eos=True), EvalSettings(batch_size=6))
    assert evaluator.bottom is not None and evaluator.bottom.depth == 1
    scores = evaluator.evaluate(population, pairs).scores  # (P, N)
    for index in range(population.shape[0]):
        peft_model, fresh = _peft_alone(loaded.settings, layout, population[index], tmp_path, f"m{index}")
        for column, pair in enumerate(pairs):
            expected = _peft_logprob(peft_model, fresh.tokenizer, pair)
            assert scores[index, column].item() == pytest.approx(expected, abs=1e-4), (index, column)


@pytest.mark.parametrize("fixture", ["tiny_gpt2", "tiny_llama"])
@pytest.mark.parametrize(("batch_size", "pairs", "share_head"),
                         [(64, PAIRS, True), (4, HEADED, True), (64, HEADED, False)])
def test_shared_bottom_greedy_texts_equal_peft_member_by_member(fixture, batch_size, pairs, share_head,
                                                                tmp_path, request):
    loaded = request.getfixturevalue(fixture)
    layout = _top_layer_only(loaded)
    population = _population(layout, 3)
    evaluator = PopulationEvaluator(loaded, BatchedLora(loaded.model, layout), ChrfReward(),
                                    EvalSettings(batch_size=batch_size, max_new_tokens=6,
                                                 share_prompt_prefix=share_head))
    batched = evaluator.generate(population, pairs)
    for index in range(population.shape[0]):
        peft_model, fresh = _peft_alone(loaded.settings, layout, population[index], tmp_path, f"m{index}")
        for column, pair in enumerate(pairs):
            ids = fresh.tokenizer(pair.prompt, return_tensors="pt")
            assert_agrees_with_peft_greedy(batched[index][column], peft_model, fresh.tokenizer, ids, 6,
                                           (index, column))


def test_the_bottom_runs_once_per_prompt_not_once_per_member(tiny_llama):
    layout = _top_layer_only(tiny_llama)
    population = _population(layout, 4)
    rows_seen = []
    bottom_layer = layout.stack.layers[0]
    handle = bottom_layer.register_forward_hook(lambda _m, args, out: rows_seen.append(out.shape[0]))
    try:
        for share in (True, False):
            evaluator = PopulationEvaluator(tiny_llama, BatchedLora(tiny_llama.model, layout),
                                            LikelihoodReward(), EvalSettings(share_bottom=share,
                                                                             share_prompt_prefix=False))
            scores = evaluator.evaluate(population, PAIRS).scores
            evaluator.lora.detach()
            if share:
                shared_scores, shared_rows = scores, list(rows_seen)
            rows_seen.clear()
    finally:
        handle.remove()
        if evaluator.bottom is not None:
            evaluator.bottom.remove()
    assert shared_rows == [len(PAIRS)]  # 3 prompts, not 4 members x 3 prompts
    torch.testing.assert_close(shared_scores, scores, atol=1e-5, rtol=0)


def test_a_layer_list_and_bad_layers_name_the_key(tiny_llama):
    tiny_llama.settings.lora.layers = [1, 0]
    layout = LoraLayout.from_model(tiny_llama.model, tiny_llama.settings.lora)
    assert layout.layers == [0, 1] and layout.first_adapted_layer == 0
    assert PopulationEvaluator(tiny_llama, BatchedLora(tiny_llama.model, layout), LikelihoodReward(),
                               EvalSettings()).bottom is None  # layer 0 adapted: nothing to share
    for bad in (3, [2], 0):
        tiny_llama.settings.lora.layers = bad
        with pytest.raises(ConfigError, match="model.lora.layers"):
            LoraLayout.from_model(tiny_llama.model, tiny_llama.settings.lora)
