"""Splitting prompts into a shared head and their rests (evosweep.evaluation.prompt_head)."""

from __future__ import annotations

import torch

from evosweep.evaluation.prompt_head import common_head_length, encode_shared_prefix, prefill_head
from evosweep.models.tiny import byte_level_tokenizer


def test_common_head_leaves_one_token_of_every_prompt():
    assert common_head_length([[1, 2, 3, 4], [1, 2, 5]]) == 2
    assert common_head_length([[1, 2, 3], [1, 2, 3]]) == 2
    assert common_head_length([[7, 1], [8, 1]]) == 0
    assert common_head_length([[1, 2, 3]]) == 2


def test_rows_are_head_padding_rest_with_the_rest_flush_right():
    tokenizer = byte_level_tokenizer()
    shared = encode_shared_prefix(tokenizer, ["ab:x", "ab:yyy"], add_special_tokens=False)
    pad = tokenizer.pad_token_id
    assert tokenizer.decode(shared.head) == "ab:"
    row_x = [*tokenizer("ab:")["input_ids"], pad, pad, *tokenizer("x")["input_ids"]]
    assert shared.input_ids[0].tolist() == row_x
    assert tokenizer.decode(shared.input_ids[1]) == "ab:yyy"
    assert shared.attention_mask.tolist() == [[1, 1, 1, 0, 0, 1], [1, 1, 1, 1, 1, 1]]


def test_no_common_head_means_no_prefill(tiny_llama):
    assert prefill_head(tiny_llama.model, torch.zeros(0, dtype=torch.long), 2, 3) is None
    cache = prefill_head(tiny_llama.model, torch.tensor([5, 6, 7]), members=2, prompts=3)
    assert cache.get_seq_length() == 3 and cache.layers[0].keys.shape[0] == 6
