"""The output head gets a contiguous input: generation's last-position slice is one matmul."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from evosweep.models.contiguous_head import make_head_input_contiguous, output_head
from evosweep.models.loading import load_model
from evosweep.settings.model_conf import model_settings


def _record_head_inputs(model: torch.nn.Module) -> list[bool]:
    """Whether each input the head's forward receives (after evosweep's hook) is contiguous."""
    seen: list[bool] = []
    head = model.get_output_embeddings()
    head.register_forward_pre_hook(lambda _module, args: seen.append(args[0].is_contiguous()))
    return seen


@pytest.mark.parametrize("name", ["tiny-llama", "tiny-gpt2"])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_generation_hands_the_head_contiguous_rows_and_the_same_tokens(name: str, dtype: str) -> None:
    loaded = load_model(dataclasses.replace(model_settings(name), dtype=dtype))
    seen = _record_head_inputs(loaded.model)
    ids = torch.randint(3, 60, (4, 7), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        hooked = loaded.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=5,
                                       min_new_tokens=5, do_sample=False)
        logits_hooked = loaded.model(input_ids=ids, logits_to_keep=1).logits
    assert seen and all(seen)

    plain = load_model(dataclasses.replace(model_settings(name), dtype=dtype))
    plain.model.get_output_embeddings()._forward_pre_hooks.clear()  # the head as transformers leaves it
    plain_seen = _record_head_inputs(plain.model)
    with torch.no_grad():
        logits_plain = plain.model(input_ids=ids, logits_to_keep=1).logits
        unhooked = plain.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=5,
                                        min_new_tokens=5, do_sample=False)
    assert not all(plain_seen)  # the slice reaches the head strided without the hook
    torch.testing.assert_close(logits_hooked, logits_plain, rtol=1e-2, atol=1e-2)
    assert torch.equal(hooked, unhooked)


def test_the_hook_is_installed_once_and_skipped_without_a_head(tiny_llama) -> None:
    head = tiny_llama.model.get_output_embeddings()
    hooks = len(head._forward_pre_hooks)
    assert make_head_input_contiguous(tiny_llama.model)  # load_model already did it
    assert len(head._forward_pre_hooks) == hooks == 1
    assert not make_head_input_contiguous(torch.nn.Linear(2, 2))


def test_output_head_is_the_models_lm_head_or_none(tiny_llama) -> None:
    assert output_head(tiny_llama.model) is tiny_llama.model.lm_head
    assert output_head(torch.nn.Linear(2, 2)) is None  # no get_output_embeddings at all
