"""Where a causal LM keeps its stack of decoder layers (``model.layers``, ``transformer.h``, ...)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn


@dataclass(frozen=True)
class DecoderStack:
    """The model's decoder layers: their module path (``model.layers``) and the list itself."""

    path: str
    layers: nn.ModuleList

    @property
    def pattern(self) -> str:
        """The list's own name (``layers``, ``h``): peft's ``layers_pattern``."""
        return self.path.rpartition(".")[2]

    def index_of(self, module_name: str) -> int | None:
        """The layer a module lives in (``model.layers.7.mlp.down_proj`` -> 7), None outside."""
        prefix = self.path + "."
        if not module_name.startswith(prefix):
            return None
        head = module_name[len(prefix):].split(".", 1)[0]
        return int(head) if head.isdigit() else None


def _layer_count(model: nn.Module) -> int | None:
    config = getattr(model, "config", None)
    for key in ("num_hidden_layers", "n_layer", "num_layers"):
        value = getattr(config, key, None)
        if isinstance(value, int):
            return value
    return None


def find_decoder_stack(model: nn.Module) -> DecoderStack | None:
    """The ModuleList holding the model's decoder layers (as many as the config says), or None."""
    count = _layer_count(model)
    found = [(name, module) for name, module in model.named_modules()
             if isinstance(module, nn.ModuleList) and len(module) > 0
             and (count is None or len(module) == count)]
    if not found:
        return None
    name, module = max(found, key=lambda item: sum(p.numel() for p in item[1].parameters()))
    return DecoderStack(name, module)
