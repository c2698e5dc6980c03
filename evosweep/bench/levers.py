"""Speed levers the likelihood bench can time against the plain pass: ``--levers int8 compile``.

``int8``: dynamic int8 quantisation (torch.ao's ``quantize_dynamic``, per-channel
weights) of every frozen Linear except the output embeddings; the batched LoRA terms
stay in float. ``compile``: ``torch.compile`` (``dynamic=True``) of each decoder
layer. Both change only the contender's own module tree, after its batched LoRA is
in place. Neither is a run option: the bench shows what each would buy, in speed and
in the scores it gives (``mean score`` beside the plain pass's).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from evosweep.errors import ConfigError
from evosweep.models.contiguous_head import output_head
from evosweep.models.decoder_layers import find_decoder_stack

LEVERS = ("int8", "compile")


def quantize_frozen_linears(model: nn.Module) -> int:
    """Swap every ``nn.Linear`` but the output embeddings for a dynamic int8 one, in place.

    Returns how many were swapped."""
    try:
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic
    except ImportError as error:  # torch.ao.quantization is deprecated upstream
        raise ConfigError("--levers", f"int8 needs torch.ao.quantization, which this torch lacks ({error})") \
            from error
    head = output_head(model)
    names = {name: per_channel_dynamic_qconfig for name, module in model.named_modules()
             if isinstance(module, nn.Linear) and module is not head}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecation notices of torch.ao.quantization
        quantize_dynamic(model, names, dtype=torch.qint8, inplace=True)
    return len(names)


def compile_decoder_layers(model: nn.Module) -> int:
    """Replace each decoder layer by ``torch.compile(layer, dynamic=True)``; returns how many."""
    stack = find_decoder_stack(model)
    if stack is None:
        raise ConfigError("--levers", "compile needs the model's decoder layer list, which was not found")
    # the layers share one forward: each one is a recompile of the same code, past dynamo's
    # default limit of 8 (the rest would silently run eager)
    dynamo = torch._dynamo.config
    dynamo.recompile_limit = max(dynamo.recompile_limit, 4 * len(stack.layers))
    dynamo.accumulated_recompile_limit = max(dynamo.accumulated_recompile_limit, 16 * len(stack.layers))
    for index, layer in enumerate(stack.layers):
        stack.layers[index] = torch.compile(layer, dynamic=True)  # type: ignore[assignment]
    return len(stack.layers)


def apply_lever(model: nn.Module, lever: str) -> int:
    """Apply ``lever`` (one of :data:`LEVERS`) to ``model`` in place; returns the modules changed."""
    if lever == "int8":
        return quantize_frozen_linears(model)
    if lever == "compile":
        return compile_decoder_layers(model)
    raise ConfigError("--levers", f"unknown lever {lever!r}; choose from {', '.join(LEVERS)}")
