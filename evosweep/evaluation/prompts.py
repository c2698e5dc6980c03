"""Prompts as the model reads them: formatted (chat template), tokenized, padded.

The one place where pairs become token ids, so evaluation, RL rollouts, SFT and
the bench all feed the model exactly the same rows (``loaded.format_prompt``, which
also applies an evolved instruction, see ``LoadedModel.with_instruction``).
"""

from __future__ import annotations

import torch

from evosweep.evaluation.prompt_head import common_head_length
from evosweep.models.loading import LoadedModel
from evosweep.tasks.pairs import Pair


def encode_prompts(loaded: LoadedModel, pairs: list[Pair],
                   device: torch.device | str) -> dict[str, torch.Tensor]:
    """Left-padded prompt ids and attention mask, ``(N, L)`` each."""
    texts = [loaded.format_prompt(pair.prompt) for pair in pairs]
    encoded = loaded.tokenizer(texts, return_tensors="pt", padding=True,
                               add_special_tokens=not loaded.settings.chat_template)
    return {key: encoded[key].to(device) for key in ("input_ids", "attention_mask")}


def encode_targets(loaded: LoadedModel, pairs: list[Pair], append_eos: bool, device: torch.device | str,
                   split_head: bool = False) -> dict[str, torch.Tensor]:
    """Right-padded prompt+target rows: ``input_ids``, ``attention_mask`` and ``targets``.

    Each pair's :attr:`~evosweep.tasks.pairs.Pair.target` (its reference, or its
    demonstration when it has one) is the continuation. ``targets`` (bool) marks its
    tokens (and the end-of-sequence token with
    ``append_eos``): the tokens a teacher-forced score or loss is about, ``(N, T)``
    each. With ``split_head`` the tokens every row starts with are cut
    off into ``head`` ``(c,)`` (to prefill once per member): ``input_ids``/``targets``
    then hold the rest ``(N, T)`` and ``attention_mask`` covers head and rest ``(N, c + T)``.
    """
    tokenizer = loaded.tokenizer
    rows = []
    for pair in pairs:
        prompt = tokenizer(loaded.format_prompt(pair.prompt),
                           add_special_tokens=not loaded.settings.chat_template)["input_ids"]
        target = tokenizer(pair.target, add_special_tokens=False)["input_ids"]
        if append_eos and tokenizer.eos_token_id is not None:
            target = target + [tokenizer.eos_token_id]
        rows.append((prompt, target))
    head: list[int] = []
    if split_head:
        head = rows[0][0][: common_head_length([prompt for prompt, _ in rows])]
        rows = [(prompt[len(head):], target) for prompt, target in rows]
    length = max(len(p) + len(t) for p, t in rows)
    ids = torch.full((len(rows), length), tokenizer.pad_token_id, dtype=torch.long)
    attention = torch.zeros((len(rows), length), dtype=torch.long)
    targets = torch.zeros((len(rows), length), dtype=torch.bool)
    for i, (prompt, target) in enumerate(rows):
        total = len(prompt) + len(target)
        ids[i, :total] = torch.tensor(prompt + target)
        attention[i, :total] = 1
        targets[i, len(prompt):total] = True
    if split_head:
        attention = torch.cat([torch.ones(len(rows), len(head), dtype=torch.long), attention], dim=1)
    tensors = {"input_ids": ids.to(device), "attention_mask": attention.to(device),
               "targets": targets.to(device)}
    if split_head:
        tensors["head"] = torch.tensor(head, dtype=torch.long)
    return tensors
