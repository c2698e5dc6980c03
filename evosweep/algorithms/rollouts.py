"""Sampled completions of one adapter and their token log-probabilities.

A rollout holds ``G`` sampled completions for each of ``N`` prompts as one
batch of ``N * G`` rows, prompt-major (rows ``i*G .. i*G+G-1`` answer prompt
``i``). :func:`completion_logprobs` scores the sampled tokens under whatever
LoRA members are set on the model at the call (none set: the base model), and
keeps the autograd graph when the members require grad.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from evosweep.evaluation.logprobs import next_token_logprobs
from evosweep.evaluation.prompts import encode_prompts
from evosweep.lora.batched import BatchedLora
from evosweep.models.generates import text_generator
from evosweep.models.loading import LoadedModel
from evosweep.tasks.pairs import Pair


@dataclass
class Rollout:
    """``R = N * G`` sampled rows: prompt (left-padded) then completion."""

    sequences: torch.Tensor  # (R, L + T) token ids
    attention: torch.Tensor  # (R, L + T) 1 for real prompt tokens and kept completion tokens
    completion_mask: torch.Tensor  # (R, T) 1 for completion tokens up to and including the first eos
    prompt_length: int  # L
    texts: list[str]  # R decoded completions

    @property
    def completions(self) -> torch.Tensor:
        """The sampled token ids, ``(R, T)``."""
        return self.sequences[:, self.prompt_length:]


def _eos_ids(loaded: LoadedModel) -> set[int]:
    ids = {loaded.tokenizer.eos_token_id}
    configured = getattr(loaded.model.generation_config, "eos_token_id", None)
    ids.update(configured if isinstance(configured, list) else [configured])
    return {token for token in ids if token is not None}


def completion_mask(completions: torch.Tensor, eos_ids: set[int]) -> torch.Tensor:
    """1 for each token up to and including the first end-of-sequence token: ``(R, T)``."""
    is_eos = torch.isin(completions, torch.tensor(sorted(eos_ids), device=completions.device))
    ended_before = (is_eos.long().cumsum(dim=1) - is_eos.long()) > 0  # an eos earlier in the row
    return (~ended_before).long()


@torch.no_grad()
def sample_rollout(loaded: LoadedModel, lora: BatchedLora, member: torch.Tensor, pairs: list[Pair],
                   group_size: int, max_new_tokens: int, temperature: float, top_p: float) -> Rollout:
    """Sample ``group_size`` completions per prompt from ``member`` (``(D,)``) with torch's RNG."""
    model = loaded.model
    encoded = encode_prompts(loaded, pairs, member.device)
    ids = encoded["input_ids"].repeat_interleave(group_size, dim=0)  # (R, L)
    mask = encoded["attention_mask"].repeat_interleave(group_size, dim=0)
    with lora.members(member.detach()[None]):
        out = text_generator(model).generate(
            input_ids=ids, attention_mask=mask, do_sample=True, temperature=temperature,
            top_p=top_p, top_k=0, max_new_tokens=max_new_tokens,
            pad_token_id=loaded.tokenizer.pad_token_id,
        )  # (R, L + T)
    prompt_length = ids.shape[1]
    kept = completion_mask(out[:, prompt_length:], _eos_ids(loaded))  # (R, T)
    texts = loaded.tokenizer.batch_decode(out[:, prompt_length:] * kept
                                          + (1 - kept) * loaded.tokenizer.pad_token_id,
                                          skip_special_tokens=True)
    return Rollout(sequences=out, attention=torch.cat([mask, kept], dim=1), completion_mask=kept,
                   prompt_length=prompt_length, texts=[text.strip() for text in texts])


def completion_logprobs(loaded: LoadedModel, rollout: Rollout, temperature: float) -> torch.Tensor:
    """log pi(token) of every sampled token under the model as set now: ``(R, T)``.

    Positions follow the attention mask as in ``generate`` (left padding), and
    logits are divided by the sampling temperature, so with the sampling
    adapter set this is the distribution the tokens were drawn from.
    """
    positions = (rollout.attention.cumsum(dim=1) - 1).clamp(min=0)  # (R, L + T)
    predicts = torch.zeros(rollout.sequences[:, 1:].shape, dtype=torch.bool,
                           device=rollout.sequences.device)  # (R, L + T - 1)
    predicts[:, rollout.prompt_length - 1:] = True  # position t predicts token t + 1
    picked = next_token_logprobs(loaded.model, rollout.sequences, rollout.attention, predicts,
                                 position_ids=positions, temperature=temperature)  # (R * T,)
    return picked.view(rollout.completions.shape)  # (R, T)
