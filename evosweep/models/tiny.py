"""Tiny causal LMs built in code (no download): for tests, benches and CI.

``tiny-gpt2`` has GPT-2's Conv1D layout (fan_in_fan_out), ``tiny-llama`` the
Llama q/k/v/o/down_proj layout of the embedded SmolLM2. Both use a byte-level
tokenizer: the 256 ByteLevel symbols as a BPE vocab without merges, plus one
end-of-text token that serves as eos and pad.
"""

from __future__ import annotations

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    PreTrainedTokenizerFast,
)

END_OF_TEXT = "<|endoftext|>"
# Larger than the usual 0.02 so that the random model's outputs react to LoRA changes
# (with 0.02 every next-token distribution is nearly uniform).
INIT_RANGE = 0.2


def byte_level_tokenizer() -> PreTrainedTokenizerFast:
    """A 257-token byte-level tokenizer (256 bytes + end-of-text), left padding."""
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {symbol: index for index, symbol in enumerate(sorted(alphabet))}
    vocab[END_OF_TEXT] = len(vocab)
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        eos_token=END_OF_TEXT,
        pad_token=END_OF_TEXT,
        bos_token=END_OF_TEXT,
        padding_side="left",
    )


def build_tiny_gpt2(seed: int = 0, vocab_size: int = 257) -> PreTrainedModel:
    """A 2-layer GPT-2 (64 wide) with deterministic random weights."""
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=vocab_size, n_positions=256, n_embd=64, n_layer=2, n_head=4,
        bos_token_id=vocab_size - 1, eos_token_id=vocab_size - 1, pad_token_id=vocab_size - 1,
        initializer_range=INIT_RANGE,
    )
    return GPT2LMHeadModel(config).eval()


def build_tiny_llama(seed: int = 0, vocab_size: int = 257) -> PreTrainedModel:
    """A 2-layer Llama (64 wide, grouped-query attention) with deterministic weights."""
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        bos_token_id=vocab_size - 1, eos_token_id=vocab_size - 1, pad_token_id=vocab_size - 1,
        initializer_range=INIT_RANGE,
    )
    return LlamaForCausalLM(config).eval()


TINY_BUILDERS = {"tiny-gpt2": build_tiny_gpt2, "tiny-llama": build_tiny_llama}
