"""Hugging Face's ``generate``, as evosweep calls it: on a causal LM or a peft model around one.

``PreTrainedModel`` itself does not declare ``generate`` (``GenerationMixin`` does, on the
causal-LM classes), so the code that samples text asks for it through :func:`text_generator`.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeAlias, runtime_checkable

import torch
from peft import PeftModel
from transformers import PreTrainedModel

#: what evosweep generates with: the frozen causal LM, or a peft model around it (the bench)
LanguageModel: TypeAlias = PreTrainedModel | PeftModel


@runtime_checkable
class TextGenerator(Protocol):
    """A model with ``generate(input_ids=..., attention_mask=..., **decoding) -> (R, L + T) ids``."""

    def generate(self, *args: Any, **kwargs: Any) -> torch.Tensor: ...


def text_generator(model: object) -> TextGenerator:
    """``model`` as a :class:`TextGenerator`; a model without ``generate`` is a TypeError naming it."""
    if not isinstance(model, TextGenerator):
        raise TypeError(f"{type(model).__name__} has no generate(): load a causal LM (AutoModelForCausalLM)")
    return model
