"""Log-probabilities of given tokens under the model as it is set now (LoRA members included)."""

from __future__ import annotations

import torch
from transformers import PreTrainedModel


def next_token_distributions(model: PreTrainedModel, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                             predicts: torch.Tensor, position_ids: torch.Tensor | None = None,
                             temperature: float = 1.0, cache=None) -> torch.Tensor:
    """log p(. | tokens <= t) over the vocabulary at every position ``t`` where ``predicts`` is true.

    ``input_ids``, ``attention_mask``: ``(R, L)``; ``predicts``: bool ``(R, L-1)``.
    Returns ``(K, V)`` with K = ``predicts.sum()``, row-major. Only those positions are
    projected to the vocabulary, so a long prompt costs no ``(R, L, V)`` logits.
    ``cache``: a prefilled head (:func:`~evosweep.evaluation.prompt_head.prefill_head`)
    the rows continue; ``attention_mask`` then covers head and rows.
    """
    hidden = model.base_model(
        input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
        cache=cache, use_cache=cache is not None,
    ).last_hidden_state  # (R, L, H)
    logits = model.get_output_embeddings()(hidden[:, :-1][predicts]).float() / temperature  # (K, V)
    return torch.log_softmax(logits, dim=-1)


def next_token_logprobs(model: PreTrainedModel, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                        predicts: torch.Tensor, position_ids: torch.Tensor | None = None,
                        temperature: float = 1.0, cache=None) -> torch.Tensor:
    """log p(token t+1 | tokens <= t) at every position ``t`` where ``predicts`` is true: ``(K,)``.

    Arguments as :func:`next_token_distributions`. Keeps the autograd graph when the
    model's LoRA members require grad.
    """
    distributions = next_token_distributions(model, input_ids, attention_mask, predicts,
                                             position_ids, temperature, cache)  # (K, V)
    tokens = input_ids[:, 1:][predicts]  # (K,)
    return distributions.gather(1, tokens.unsqueeze(1)).squeeze(1)
