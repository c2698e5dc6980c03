"""Hand the output head a contiguous input, so that its matmul never copies the weight per row.

A causal LM's forward keeps only the last position's hidden state before the output head
when it generates (transformers' ``logits_to_keep``): a ``(rows, 1, hidden)`` slice of the
``(rows, tokens, hidden)`` output, not contiguous. ``nn.Linear`` cannot fold such an input
into one matrix product, so torch broadcasts the weight to a batched product instead. On a
CPU in bfloat16 that materialises the weight once per row: 64 rows of SmolLM2's
``49,152 x 576`` head are 3.6 GB copied at every prefill (8 of the 17 CPU-seconds of a
20-token greedy generation, measured); in float32 the batched product is still about 12x
slower than the one matrix product. Copying the small slice first costs ``rows x hidden``
numbers and turns it back into one matrix product.
"""

from __future__ import annotations

import torch
from torch import nn

HOOK_FLAG = "_evosweep_contiguous_head"


def _contiguous_input(module: nn.Module, args: tuple[object, ...]) -> tuple[object, ...] | None:
    """``forward_pre_hook``: the first argument made contiguous when it is a strided tensor."""
    if args and isinstance(args[0], torch.Tensor) and not args[0].is_contiguous():
        return (args[0].contiguous(), *args[1:])
    return None


def output_head(model: nn.Module) -> nn.Module | None:
    """``model``'s output head (``get_output_embeddings()``), or ``None`` when it has none."""
    get_head = getattr(model, "get_output_embeddings", None)
    head = get_head() if callable(get_head) else None
    return head if isinstance(head, nn.Module) else None


def make_head_input_contiguous(model: nn.Module) -> bool:
    """Hook ``model``'s output head (once); ``False`` when the model has none to hook."""
    head = output_head(model)
    if head is None:
        return False
    if not getattr(head, HOOK_FLAG, False):
        head.register_forward_pre_hook(_contiguous_input)
        setattr(head, HOOK_FLAG, True)
    return True
