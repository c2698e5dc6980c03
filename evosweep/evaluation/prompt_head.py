"""Prompts that start alike are prefilled once per member, not once per row.

A task's prompts usually share a long head (chat template, system prompt,
instruction): on the bundled fr_en task 34 of ~42 tokens. Every member reads
that head the same way for each of its prompts, so the evaluator runs it once
per member (``p`` rows), repeats each member's cache for its ``n`` prompts and
lets ``generate`` continue from there. Rows are laid out as
``[shared head][padding][rest of the prompt]``; the attention mask hides the
padding and ``generate`` derives positions from the mask, so every row sees the
same tokens at the same positions as with plain left padding.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from transformers import DynamicCache, PreTrainedTokenizerBase

from evosweep.models.generates import LanguageModel

if TYPE_CHECKING:
    from evosweep.evaluation.shared_bottom import SharedBottom


@dataclass
class SharedPrefixPrompts:
    """N prompts as one shared token head plus each prompt's rest."""

    head: torch.Tensor  # (c,) token ids every prompt starts with (c may be 0)
    input_ids: torch.Tensor  # (N, c + S): head, padding, rest
    attention_mask: torch.Tensor  # (N, c + S)


def common_head_length(rows: list[list[int]]) -> int:
    """Tokens every row starts with, leaving at least one token of each row after them."""
    limit = min(len(row) for row in rows) - 1
    length = 0
    while length < limit and all(row[length] == rows[0][length] for row in rows):
        length += 1
    return max(length, 0)


def encode_shared_prefix(tokenizer: PreTrainedTokenizerBase, texts: list[str],
                         add_special_tokens: bool) -> SharedPrefixPrompts:
    """Tokenize ``texts`` and split off their common head; the rests are left-padded."""
    rows = [tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"] for text in texts]
    head = common_head_length(rows)
    rest = max(len(row) for row in rows) - head
    ids = torch.full((len(rows), head + rest), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(rows), head + rest), dtype=torch.long)
    for index, row in enumerate(rows):
        start = head + rest - (len(row) - head)  # the rest ends flush right
        ids[index, :head] = torch.tensor(row[:head], dtype=torch.long)
        ids[index, start:] = torch.tensor(row[head:], dtype=torch.long)
        mask[index, :head] = 1
        mask[index, start:] = 1
    return SharedPrefixPrompts(torch.tensor(rows[0][:head], dtype=torch.long), ids, mask)


def prefill_head(model: LanguageModel, head: torch.Tensor, members: int,
                 prompts: int) -> DynamicCache | None:
    """The head's cache, computed on ``members`` rows and repeated for ``prompts`` rows each.

    Call inside ``BatchedLora.members`` so row ``m`` runs member ``m``; the result
    is member-major (``members * prompts`` rows), like the evaluator's batches.
    """
    if head.numel() == 0:
        return None
    cache = DynamicCache(config=model.config)
    ids = head.to(next(model.parameters()).device).expand(members, -1)  # (p, c)
    model.base_model(input_ids=ids, cache=cache, use_cache=True)
    cache.batch_repeat_interleave(prompts)  # (p*n, heads, c, d) per layer
    return cache


def prefill_prompts(model: LanguageModel, head: torch.Tensor | None, rows: dict[str, torch.Tensor],
                    members: int, prompts: int, bottom: SharedBottom | None = None) -> DynamicCache | None:
    """The cache ``generate`` continues from: the shared head and, with a shared frozen
    ``bottom``, every prompt token but the last (so only decoding runs the bottom per member).

    ``rows``: the chunk's ``input_ids``/``attention_mask`` ``(p*n, L)``, head included.
    """
    with bottom.shared(members) if bottom is not None else nullcontext():
        cache = prefill_head(model, head, members, prompts) if head is not None else None
        if bottom is None:
            return cache
        start = head.numel() if head is not None else 0
        ids, mask = rows["input_ids"][:, start:-1], rows["attention_mask"][:, :-1]
        if ids.shape[1] > 0:
            cache = cache if cache is not None else DynamicCache(config=model.config)
            positions = (mask.cumsum(dim=1) - 1).clamp(min=0)[:, start:]  # as generate derives them
            model.base_model(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache,
                             use_cache=True)
    bottom.expand_cache(cache, members)
    return cache
