"""How far an adapter moved the model: KL(adapted || base) on the adapter's own answers."""

from __future__ import annotations

import torch

from evosweep.evaluation.logprobs import next_token_distributions
from evosweep.evaluation.prompt_head import prefill_head
from evosweep.evaluation.prompts import encode_targets
from evosweep.lora.batched import BatchedLora
from evosweep.models.loading import LoadedModel
from evosweep.tasks.pairs import Pair


@torch.inference_mode()
def kl_to_base(loaded: LoadedModel, lora: BatchedLora, member: torch.Tensor, pairs: list[Pair],
               answers: list[str], share_head: bool = True) -> float:
    """Mean per-token KL(adapted || base) along ``member``'s answers to ``pairs``, in nats.

    At every answer token the full next-token distributions of the model with the
    adapter (``member``, ``(D,)``) and without it (the frozen base) are compared
    exactly: sum over the vocabulary of p_adapted * (log p_adapted - log p_base).
    This is the divergence policy-gradient methods penalise (Qiu et al. 2025 report
    it per method); 0 for the base model itself, which is returned without a pass
    (B all zero: the adapter adds nothing). Answers with no tokens count nothing.
    ``share_head``: the prompts' common head (chat template, system prompt) runs once
    per pass instead of once per answer (``eval.share_prompt_prefix``); same numbers.
    """
    if not member[lora.layout.b_mask().to(member.device)].any():
        return 0.0
    rows = [Pair(pair.prompt, answer) for pair, answer in zip(pairs, answers, strict=True)]
    device = next(loaded.model.parameters()).device
    encoded = encode_targets(loaded, rows, append_eos=False, device=device, split_head=share_head)
    head = encoded.pop("head", None)
    predicts = encoded["targets"][:, 1:]  # (N, T-1)
    if not predicts.any():
        return 0.0

    def distributions() -> torch.Tensor:  # (K, V) under whatever adapter is set now
        cache = prefill_head(loaded.model, head, 1, len(rows)) if head is not None else None
        return next_token_distributions(loaded.model, encoded["input_ids"], encoded["attention_mask"],
                                        predicts, cache=cache)

    with lora.members(member[None]):
        adapted = distributions()
    base = distributions()
    per_token = (adapted.exp() * (adapted - base)).sum(dim=-1)  # (K,)
    return float(per_token.clamp(min=0).mean())
