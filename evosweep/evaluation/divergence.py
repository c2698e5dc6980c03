"""How far an adapter moved the model: KL(adapted || base) on the adapter's own answers."""

from __future__ import annotations

import torch

from evosweep.evaluation.logprobs import next_token_distributions
from evosweep.evaluation.prompts import encode_targets
from evosweep.lora.batched import BatchedLora
from evosweep.models.loading import LoadedModel
from evosweep.tasks.pairs import Pair


@torch.inference_mode()
def kl_to_base(loaded: LoadedModel, lora: BatchedLora, member: torch.Tensor, pairs: list[Pair],
               answers: list[str]) -> float:
    """Mean per-token KL(adapted || base) along ``member``'s answers to ``pairs``, in nats.

    At every answer token the full next-token distributions of the model with the
    adapter (``member``, ``(D,)``) and without it (the frozen base) are compared
    exactly: sum over the vocabulary of p_adapted * (log p_adapted - log p_base).
    This is the divergence policy-gradient methods penalise (Qiu et al. 2025 report
    it per method); 0 for the base model itself. Answers with no tokens count nothing.
    """
    rows = [Pair(pair.prompt, answer) for pair, answer in zip(pairs, answers, strict=True)]
    device = next(loaded.model.parameters()).device
    encoded = encode_targets(loaded, rows, append_eos=False, device=device)
    predicts = encoded["targets"][:, 1:]  # (N, T-1)
    if not predicts.any():
        return 0.0
    with lora.members(member[None]):
        adapted = next_token_distributions(loaded.model, encoded["input_ids"],
                                           encoded["attention_mask"], predicts)  # (K, V)
    base = next_token_distributions(loaded.model, encoded["input_ids"],
                                    encoded["attention_mask"], predicts)  # (K, V)
    per_token = (adapted.exp() * (adapted - base)).sum(dim=-1)  # (K,)
    return float(per_token.clamp(min=0).mean())
