"""Greedy or sampled answers for a members x prompts grid, chunk by chunk."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import torch
from transformers import PreTrainedTokenizerBase

from evosweep.evaluation.grid import chunk_grid, grid_rows
from evosweep.evaluation.prompt_head import prefill_prompts
from evosweep.evaluation.shared_bottom import SharedBottom
from evosweep.models.generates import LanguageModel, text_generator
from evosweep.settings.evaluation import EvalSettings

#: chunk_context(members, prompts) -> a context manager yielding extra ``generate`` kwargs
ChunkContext = Callable[[slice, slice], AbstractContextManager[dict[str, Any]]]


@contextmanager
def no_chunk_context(_members: slice, _prompts: slice):
    """Nothing to set up per chunk (the plain base model)."""
    yield {}


def generation_kwargs(settings: EvalSettings, pad_token_id: int) -> dict[str, Any]:
    """``generate`` arguments for ``eval.*``: greedy unless ``eval.do_sample``."""
    kwargs: dict[str, Any] = {
        "max_new_tokens": settings.max_new_tokens,
        "do_sample": settings.do_sample,
        "pad_token_id": pad_token_id,
    }
    if settings.do_sample:
        kwargs.update(temperature=settings.temperature, top_p=settings.top_p)
    else:
        kwargs.update(temperature=None, top_p=None, top_k=None)
    return kwargs


def generate_grid(model: LanguageModel, tokenizer: PreTrainedTokenizerBase,
                  encoded: dict[str, torch.Tensor], members: int, batch_size: int, kwargs: dict[str, Any],
                  chunk_context: ChunkContext = no_chunk_context, head: torch.Tensor | None = None,
                  bottom: SharedBottom | None = None) -> list[list[str]]:
    """Every member's answer to every encoded prompt: ``[P][N]`` stripped strings.

    ``encoded``: ``input_ids``/``attention_mask`` ``(N, L)``; ``head``: token ids all
    prompts share, prefilled once per member (see :mod:`evosweep.evaluation.prompt_head`);
    ``bottom``: frozen decoder layers the prompts' prefill runs once for all members.
    """
    prompt_count, prompt_len = encoded["input_ids"].shape
    texts: list[list[str]] = [[""] * prompt_count for _ in range(members)]
    for chunk_members, prompts in chunk_grid(members, prompt_count, batch_size):
        rows = grid_rows(encoded, chunk_members, prompts)  # input_ids, attention_mask: (p*n, L)
        count, n = chunk_members.stop - chunk_members.start, prompts.stop - prompts.start
        with torch.no_grad(), chunk_context(chunk_members, prompts) as extra:
            cache = prefill_prompts(model, head, rows, count, n, bottom)
            out = text_generator(model).generate(**rows, cache=cache, **kwargs, **extra)  # (p*n, L+T)
        decoded = tokenizer.batch_decode(out[:, prompt_len:], skip_special_tokens=True)
        for row, text in enumerate(decoded):
            texts[chunk_members.start + row // n][prompts.start + row % n] = text.strip()
    return texts
