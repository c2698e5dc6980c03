"""Batched multi-LoRA evaluation equals evaluating each member alone through peft."""

from __future__ import annotations

import pytest
import torch
from peft import PeftModel

from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.evaluation.grid import chunk_grid
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.models.loading import load_model
from evosweep.rewards.likelihood import LikelihoodReward
from evosweep.rewards.sacrebleu_metrics import ChrfReward
from evosweep.settings.evaluation import EvalSettings
from evosweep.tasks.pairs import Pair

PAIRS = [Pair("hello there", "general"), Pair("a", "bc"), Pair("longer prompt here!", "x")]
# prompts with a common head: the evaluator prefills the head once per member
HEADED = [Pair("Translate to English: chat", "cat"), Pair("Translate to English: pomme de terre", "potato"),
          Pair("Translate to English: ami", "friend")]


def _population(layout: LoraLayout, size: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(7)
    base = layout.initial_member(generator)
    noise = torch.randn(size, layout.dim, generator=generator) * 0.3
    return base + noise  # (P, D)


def _peft_alone(settings, layout, member, tmp_path, name):
    folder = layout.save_adapter(member, tmp_path / name, settings.name_or_path)
    fresh = load_model(settings)
    return PeftModel.from_pretrained(fresh.model, str(folder)).eval(), fresh


NEAR_TIE = 1e-3  # logits this close make a greedy choice a matter of float rounding order


def assert_agrees_with_peft_greedy(answer, peft_model, tokenizer, ids, max_new_tokens, where):
    """``answer`` equals peft's greedy answer, unless peft's own greedy path passes a near tie.

    Random tiny models have flat logits: where the top two differ by float rounding, batched and
    single-row matmuls may legitimately pick different tokens (a CI machine once did).
    """
    out = peft_model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False,
                              pad_token_id=tokenizer.pad_token_id, output_scores=True,
                              return_dict_in_generate=True)
    alone = tokenizer.decode(out.sequences[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    if answer == alone.strip():
        return
    top_two = torch.stack(out.scores)[:, 0].topk(2, dim=-1).values
    margin = (top_two[:, 0] - top_two[:, 1]).min().item()
    assert margin < NEAR_TIE, (where, answer, alone, margin)


@pytest.mark.parametrize("fixture", ["tiny_gpt2", "tiny_llama"])
@pytest.mark.parametrize(("batch_size", "pairs"), [(64, PAIRS), (4, PAIRS), (64, HEADED), (2, HEADED)])
def test_batched_greedy_tokens_match_peft_member_by_member(fixture, batch_size, pairs, tmp_path, request):
    loaded = request.getfixturevalue(fixture)
    layout = LoraLayout.from_model(loaded.model, loaded.settings.lora)
    population = _population(layout, 3)
    evaluator = PopulationEvaluator(loaded, BatchedLora(loaded.model, layout), ChrfReward(),
                                    EvalSettings(batch_size=batch_size, max_new_tokens=6))
    batched = evaluator.generate(population, pairs)
    for index in range(population.shape[0]):
        peft_model, fresh = _peft_alone(loaded.settings, layout, population[index], tmp_path,
                                        f"m{index}")
        for column, pair in enumerate(pairs):
            ids = fresh.tokenizer(pair.prompt, return_tensors="pt")
            assert_agrees_with_peft_greedy(batched[index][column], peft_model, fresh.tokenizer, ids, 6,
                                           (index, column))


@pytest.mark.parametrize("fixture", ["tiny_gpt2", "tiny_llama"])
@pytest.mark.parametrize(("pairs", "share"), [(PAIRS, True), (HEADED, True), (HEADED, False)])
def test_batched_likelihood_matches_peft_logits(fixture, pairs, share, tmp_path, request):
    """Teacher-forced scores equal peft's, with the prompts' common head prefilled or not."""
    loaded = request.getfixturevalue(fixture)
    layout = LoraLayout.from_model(loaded.model, loaded.settings.lora)
    population = _population(layout, 3)
    evaluator = PopulationEvaluator(loaded, BatchedLora(loaded.model, layout),
                                    LikelihoodReward(append_eos=True),
                                    EvalSettings(batch_size=5, share_prompt_prefix=share))
    scores = evaluator.evaluate(population, pairs).scores  # (P, N)
    tokenizer = loaded.tokenizer
    for index in range(population.shape[0]):
        peft_model, _ = _peft_alone(loaded.settings, layout, population[index], tmp_path,
                                    f"m{index}")
        for column, pair in enumerate(pairs):
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
            assert rows <= batch
            seen[member_slice, prompt_slice] += 1
        assert torch.all(seen == 1)


def _left_padded_rows(loaded, members: int) -> dict[str, torch.Tensor]:
    """PAIRS' prompts left-padded, repeated member-major, with positions as generate uses them."""
    encoded = loaded.tokenizer([pair.prompt for pair in PAIRS], return_tensors="pt", padding=True)
    mask = encoded["attention_mask"].repeat(members, 1)  # (p*n, L)
    return {"input_ids": encoded["input_ids"].repeat(members, 1), "attention_mask": mask,
            "position_ids": (mask.cumsum(dim=1) - 1).clamp(min=0)}


@pytest.mark.parametrize("fixture", ["tiny_gpt2", "tiny_llama"])
def test_batched_logits_match_peft_within_float_tolerance(fixture, tmp_path, request):
    loaded = request.getfixturevalue(fixture)
    layout = LoraLayout.from_model(loaded.model, loaded.settings.lora)
    population = _population(layout, 3)
    before = population.clone()
    lora = BatchedLora(loaded.model, layout)
    with torch.inference_mode(), lora.members(population):
        logits = loaded.model(**_left_padded_rows(loaded, 3)).logits[:, -1]  # (p*n, V)
    assert torch.equal(population, before), "setting members must not change the population"
    for index in range(population.shape[0]):
        peft_model, fresh = _peft_alone(loaded.settings, layout, population[index], tmp_path,
                                        f"m{index}")
        for column, pair in enumerate(PAIRS):
            with torch.no_grad():
                alone = peft_model(**fresh.tokenizer(pair.prompt, return_tensors="pt")).logits[0, -1]
            torch.testing.assert_close(logits[index * len(PAIRS) + column], alone, atol=1e-4, rtol=1e-4)


def test_batched_forward_keeps_autograd_for_the_members(tiny_llama):
    """With grad enabled (policy-gradient steps) the LoRA sum is out of place and differentiable."""
    layout = LoraLayout.from_model(tiny_llama.model, tiny_llama.settings.lora)
    population = _population(layout, 2)
    lora = BatchedLora(tiny_llama.model, layout)
    rows = _left_padded_rows(tiny_llama, 2)
    with torch.inference_mode(), lora.members(population):
        expected = tiny_llama.model(**rows).logits
    trainable = population.clone().requires_grad_(True)
    with lora.members(trainable):
        logits = tiny_llama.model(**rows).logits
    torch.testing.assert_close(logits, expected)
    logits[:, -1].logsumexp(dim=-1).sum().backward()
    for slot in layout.slots:
        a, b = layout.split(trainable.grad, slot)
        assert a.abs().sum() > 0 and b.abs().sum() > 0, slot.module_name


def test_qkv_siblings_share_one_low_rank_product_and_stay_exact(tiny_llama):
    layout = LoraLayout.from_model(tiny_llama.model, tiny_llama.settings.lora)
    lora = BatchedLora(tiny_llama.model, layout)
    attention = tiny_llama.model.model.layers[0].self_attn
    shared = attention.q_proj.source
    assert attention.k_proj.source is shared and attention.v_proj.source is shared
    assert attention.o_proj.source is not shared
    population = _population(layout, 2)
    x, other = torch.randn(2, 3, 64), torch.randn(2, 3, 64)  # (p*n, T, in)
    with torch.inference_mode(), lora.members(population):
        got = [attention.q_proj(x), attention.k_proj(other), attention.v_proj(x)]
    scale = layout.settings.scaling
    for layer, inputs, out in zip((attention.q_proj, attention.k_proj, attention.v_proj), (x, other, x),
                                  got, strict=True):
        a, b = layout.split(population, layer.slot)  # (p, r, in), (p, out, r)
        delta = torch.einsum("pti,pri,por->pto", inputs, a, b) * scale
        torch.testing.assert_close(out, layer.base(inputs) + delta)


def test_rows_that_do_not_split_into_members_are_refused(tiny_llama):
    layout = LoraLayout.from_model(tiny_llama.model, tiny_llama.settings.lora)
    lora = BatchedLora(tiny_llama.model, layout)
    with torch.inference_mode(), lora.members(_population(layout, 2)), pytest.raises(ValueError):
        tiny_llama.model(input_ids=torch.ones(3, 2, dtype=torch.long))


def _generator(loaded, members: int, pairs: list[Pair]):
    """generate(**eval settings) -> texts of ``members`` fixed members on ``pairs``."""
    layout = LoraLayout.from_model(loaded.model, loaded.settings.lora)
    population, lora = _population(layout, members), BatchedLora(loaded.model, layout)

    def generate(**settings) -> list[list[str]]:
        evaluator = PopulationEvaluator(loaded, lora, ChrfReward(), EvalSettings(**settings))
        return evaluator.generate(population, pairs)

    return generate


@pytest.mark.parametrize("fixture", ["tiny_gpt2", "tiny_llama"])
def test_sampled_generation_is_seeded_and_uses_each_members_logits(fixture, request):
    run = _generator(request.getfixturevalue(fixture), 3, PAIRS)
    greedy = run(batch_size=4, max_new_tokens=6)
    assert len({tuple(texts) for texts in greedy}) > 1, "members must answer differently"
    torch.manual_seed(3)
    sampled = run(batch_size=4, max_new_tokens=6, do_sample=True)
    torch.manual_seed(3)
    assert run(batch_size=4, max_new_tokens=6, do_sample=True) == sampled
    # near-zero temperature: sampling must follow each member's own argmax
    assert run(max_new_tokens=6, do_sample=True, temperature=1e-4) == greedy


@pytest.mark.parametrize("fixture", ["tiny_gpt2", "tiny_llama"])
def test_shared_prompt_head_gives_the_texts_of_plain_left_padding(fixture, request):
    run = _generator(request.getfixturevalue(fixture), 4, HEADED)
    plain = run(max_new_tokens=8, share_prompt_prefix=False)
    assert run(max_new_tokens=8) == plain
    assert run(max_new_tokens=8, batch_size=5) == plain  # one member (3 rows) per chunk


def test_lora_dropout_applies_only_in_a_trainers_forward(tiny_llama):
    """model.lora.dropout: train=True drops inputs before A (outputs vary), evaluation never does."""
    import copy

    from evosweep.lora.batched import BatchedLora
    from evosweep.lora.layout import LoraLayout

    settings = copy.deepcopy(tiny_llama.settings.lora)
    settings.dropout = 0.5
    layout = LoraLayout.from_model(tiny_llama.model, settings)
    lora = BatchedLora(tiny_llama.model, layout)
    member = layout.initial_member(torch.Generator().manual_seed(0))
    member = member + 0.5 * torch.randn(member.shape, generator=torch.Generator().manual_seed(1))
    ids = torch.tensor([[5, 6, 7, 8, 9]])

    def logits(train: bool) -> torch.Tensor:
        with torch.no_grad(), lora.members(member[None], train=train):
            return tiny_llama.model(input_ids=ids).logits

    assert torch.equal(logits(False), logits(False))
    torch.manual_seed(0)
    first, second = logits(True), logits(True)
    assert not torch.equal(first, second)  # a fresh mask each forward
    assert not torch.equal(first, logits(False))
    assert torch.equal(logits(False), logits(False))  # leaving the block switched dropout off


CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")


def test_batched_equals_peft_with_the_chat_template_on_tiny_llama(tmp_path):
    """Chat-formatted prompts (system prompt, shared head) give peft's greedy answers, member by member."""
    import dataclasses

    from evosweep.settings.model import LoraSettings, ModelSettings

    settings = ModelSettings(name_or_path="builtin:tiny-llama", gguf_file=None, dtype="float32",
                             chat_template=True,
                             system_prompt="Answer in one word.",
                             lora=LoraSettings(r=4, alpha=8,
                                               target_modules=["q_proj", "v_proj", "down_proj"]))
    loaded = load_model(settings)
    loaded.tokenizer.chat_template = CHAT_TEMPLATE
    layout = LoraLayout.from_model(loaded.model, settings.lora)
    population = _population(layout, 2)
    evaluator = PopulationEvaluator(loaded, BatchedLora(loaded.model, layout), ChrfReward(),
                                    EvalSettings(batch_size=4, max_new_tokens=5))
    batched = evaluator.generate(population, HEADED)
    assert loaded.format_prompt("chat").startswith("<|system|>Answer in one word.\n<|user|>chat")
    for index in range(population.shape[0]):
        peft_model, fresh = _peft_alone(dataclasses.replace(settings), layout, population[index],
                                        tmp_path, f"chat{index}")
        fresh.tokenizer.chat_template = CHAT_TEMPLATE
        for column, pair in enumerate(HEADED):
            text = fresh.format_prompt(pair.prompt)
            ids = fresh.tokenizer(text, return_tensors="pt", add_special_tokens=False)
            assert_agrees_with_peft_greedy(batched[index][column], peft_model, fresh.tokenizer, ids, 5,
                                           (index, column))


@pytest.mark.parametrize("chat", [False, True])
@pytest.mark.parametrize("reward", ["chrf", "likelihood"])
def test_per_member_instructions_equal_each_member_alone_with_its_prompt(chat, reward):
    """Prompt co-evolution's rows: member m reads instruction m; same scores as one by one."""
    import dataclasses

    from evosweep.settings.model import LoraSettings, ModelSettings

    settings = ModelSettings(name_or_path="builtin:tiny-llama", gguf_file=None, dtype="float32",
                             chat_template=chat,
                             system_prompt="Be brief.",
                             lora=LoraSettings(r=4, alpha=8, target_modules=["q_proj", "v_proj"]))
    loaded = load_model(settings)
    loaded.tokenizer.chat_template = CHAT_TEMPLATE
    layout = LoraLayout.from_model(loaded.model, settings.lora)
    population = _population(layout, 3)
    scorer = ChrfReward() if reward == "chrf" else LikelihoodReward()
    evaluator = PopulationEvaluator(loaded, BatchedLora(loaded.model, layout), scorer,
                                    EvalSettings(batch_size=4, max_new_tokens=4))
    instructions = ["Answer in one word.", "Translate.", "Answer in one word."]
    together = evaluator.evaluate(population, HEADED, instructions)
    for index, variant in enumerate(instructions):
        # chat: the variant is the system prompt; plain: a first line above the prompt
        loaded.settings = dataclasses.replace(settings, system_prompt=variant if chat else None)
        pairs = HEADED if chat else [Pair(f"{variant}\n{pair.prompt}", pair.reference) for pair in HEADED]
        alone = evaluator.evaluate(population[index:index + 1], pairs)
        torch.testing.assert_close(together.scores[index], alone.scores[0], rtol=1e-5, atol=1e-5)
        if together.completions is not None:
            assert together.completions[index] == alone.completions[0]
    loaded.settings = settings
    assert loaded.format_prompt("x", "Do it.") == ("<|system|>Do it.\n<|user|>x\n<|assistant|>" if chat
                                                  else "Do it.\nx")
