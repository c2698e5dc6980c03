"""Prompts as the model reads them: formatted (chat template), tokenized, padded.

The one place where pairs become token ids, so evaluation, RL rollouts, SFT and
the bench all feed the model exactly the same rows. With ``instructions`` (one
prompt variant per member, for prompt co-evolution) every member gets its own
rows: tensors are ``(P, N, L)`` instead of ``(N, L)``.
"""

from __future__ import annotations

import torch

from evosweep.evaluation.prompt_head import common_head_length
from evosweep.models.loading import LoadedModel
from evosweep.tasks.pairs import Pair


def _texts(loaded: LoadedModel, pairs: list[Pair], instructions: list[str] | None) -> list[str]:
    if instructions is None:
        return [loaded.format_prompt(pair.prompt) for pair in pairs]
    return [loaded.format_prompt(pair.prompt, variant) for variant in instructions for pair in pairs]


def _per_member(tensors: dict[str, torch.Tensor], members: int | None) -> dict[str, torch.Tensor]:
    """``(P*N, L)`` -> ``(P, N, L)`` when rows were made per member."""
    if members is None:
        return tensors
    return {key: value.view(members, -1, value.shape[-1]) for key, value in tensors.items()}


def encode_prompts(loaded: LoadedModel, pairs: list[Pair], device: torch.device | str,
                   instructions: list[str] | None = None) -> dict[str, torch.Tensor]:
    """Left-padded prompt ids and attention mask: ``(N, L)``, or ``(P, N, L)`` per instruction."""
    encoded = loaded.tokenizer(_texts(loaded, pairs, instructions), return_tensors="pt", padding=True,
                               add_special_tokens=not loaded.settings.chat_template)
    tensors = {key: encoded[key].to(device) for key in ("input_ids", "attention_mask")}
    return _per_member(tensors, None if instructions is None else len(instructions))


def encode_targets(loaded: LoadedModel, pairs: list[Pair], append_eos: bool, device: torch.device | str,
                   instructions: list[str] | None = None,
                   split_head: bool = False) -> dict[str, torch.Tensor]:
    """Right-padded prompt+reference rows: ``input_ids``, ``attention_mask`` and ``targets``.

    ``targets`` (bool) marks the reference tokens (and the end-of-sequence token with
    ``append_eos``): the tokens a teacher-forced score or loss is about. Shapes as
    :func:`encode_prompts`. With ``split_head`` the tokens every row starts with are cut
    off into ``head`` ``(c,)`` (to prefill once per member): ``input_ids``/``targets``
    then hold the rest ``(N, T)`` and ``attention_mask`` covers head and rest ``(N, c + T)``.
    """
    tokenizer = loaded.tokenizer
    rows = []
    references = [pair.reference for pair in pairs] * (1 if instructions is None else len(instructions))
    for text, reference in zip(_texts(loaded, pairs, instructions), references, strict=True):
        prompt = tokenizer(text, add_special_tokens=not loaded.settings.chat_template)["input_ids"]
        target = tokenizer(reference, add_special_tokens=False)["input_ids"]
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
    return _per_member(tensors, None if instructions is None else len(instructions))
