"""A population of LoRA adapters as one ``[P, D]`` tensor, and its peft mapping.

Each member is a flat vector: for every target module (in model order) its
``A`` (r x in) then its ``B`` (out x r), exactly peft's ``lora_A.weight`` and
``lora_B.weight``. ``LoraLayout`` knows the offsets; nothing else does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from peft import LoraConfig
from safetensors.torch import load_file, save_file
from torch import nn
from transformers.pytorch_utils import Conv1D

from evosweep.errors import ConfigError
from evosweep.models.decoder_layers import DecoderStack, find_decoder_stack
from evosweep.settings.model import LoraSettings

ADAPTER_WEIGHTS = "adapter_model.safetensors"


@dataclass(frozen=True)
class LoraSlot:
    """Where one module's A and B live inside a member's flat vector."""

    module_name: str
    in_features: int
    out_features: int
    rank: int
    offset: int
    is_conv1d: bool
    layer: int | None = None  # the decoder layer it sits in (None: outside the decoder stack)

    @property
    def a_size(self) -> int:
        return self.rank * self.in_features

    @property
    def size(self) -> int:
        return self.rank * (self.in_features + self.out_features)


def _module_features(module: nn.Module) -> tuple[int, int, bool] | None:
    if isinstance(module, nn.Linear):
        return module.in_features, module.out_features, False
    if isinstance(module, Conv1D):
        in_features, out_features = module.weight.shape
        return in_features, out_features, True
    return None


def _matches(name: str, targets: list[str]) -> bool:
    """peft's rule: the module's full name is a target or ends with '.' + target."""
    return any(name == target or name.endswith("." + target) for target in targets)


class LoraLayout:
    """The flat layout of every LoRA matrix of one model (D numbers per member)."""

    def __init__(self, slots: list[LoraSlot], settings: LoraSettings, stack: DecoderStack | None = None,
                 layers: list[int] | None = None) -> None:
        self.slots = slots
        self.settings = settings
        self.stack = stack  # the model's decoder layers, when found
        self.layers = layers  # the adapted decoder layers (None: every layer)
        self.dim = sum(slot.size for slot in slots)

    @classmethod
    def from_model(cls, model: nn.Module, settings: LoraSettings) -> LoraLayout:
        """Find every Linear/Conv1D whose name matches ``settings.target_modules``
        (inside the decoder layers ``settings.layers`` names, when it names some)."""
        stack = find_decoder_stack(model)
        layers = None
        if settings.layers is not None:
            if stack is None:
                raise ConfigError("model.lora.layers", "found no decoder layer list in this model; "
                                                       "set model.lora.layers=null")
            layers = settings.layer_indices(len(stack.layers))
        slots, offset = [], 0
        for name, module in model.named_modules():
            features = _module_features(module)
            if features is None or not _matches(name, list(settings.target_modules)):
                continue
            layer = stack.index_of(name) if stack is not None else None
            if layers is not None and layer not in layers:
                continue
            in_features, out_features, is_conv1d = features
            slot = LoraSlot(name, in_features, out_features, settings.r, offset, is_conv1d, layer)
            slots.append(slot)
            offset += slot.size
        if not slots:
            raise ConfigError(
                "model.lora.target_modules",
                f"{list(settings.target_modules)} match no Linear/Conv1D module of the model"
                + (f" in layers {layers} (model.lora.layers)" if layers is not None else ""),
            )
        return cls(slots, settings, stack, layers)

    @property
    def first_adapted_layer(self) -> int:
        """Decoder layers below this index carry no adapter: every member computes them alike.
        0 when an adapted module sits outside the decoder stack (or the stack is unknown)."""
        if self.stack is None or any(slot.layer is None for slot in self.slots):
            return 0
        return min(slot.layer for slot in self.slots if slot.layer is not None)

    def split(self, flat: torch.Tensor, slot: LoraSlot) -> tuple[torch.Tensor, torch.Tensor]:
        """Views of one slot's matrices: ``(P, r, in)`` and ``(P, out, r)`` from ``(P, D)``."""
        a = flat[:, slot.offset : slot.offset + slot.a_size]
        b = flat[:, slot.offset + slot.a_size : slot.offset + slot.size]
        rows = flat.shape[0]
        return (
            a.view(rows, slot.rank, slot.in_features),
            b.view(rows, slot.out_features, slot.rank),
        )

    def initial_member(self, generator: torch.Generator) -> torch.Tensor:
        """peft's init: A ~ kaiming-uniform (bound 1/sqrt(in)), B = 0, so delta W = 0."""
        member = torch.zeros(self.dim)
        for slot in self.slots:
            bound = 1.0 / math.sqrt(slot.in_features)
            a = torch.rand(slot.a_size, generator=generator) * (2 * bound) - bound
            member[slot.offset : slot.offset + slot.a_size] = a
        return member

    def b_mask(self) -> torch.Tensor:
        """``(D,)`` bools, True on every B entry: ``algorithm.evolve=lora_b`` moves only these."""
        mask = torch.zeros(self.dim, dtype=torch.bool)
        for slot in self.slots:
            mask[slot.offset + slot.a_size : slot.offset + slot.size] = True
        return mask

    def module_boundaries(self) -> list[tuple[int, int]]:
        """(start, end) of each A and each B matrix: the units of per-module crossover."""
        bounds = []
        for slot in self.slots:
            bounds.append((slot.offset, slot.offset + slot.a_size))
            bounds.append((slot.offset + slot.a_size, slot.offset + slot.size))
        return bounds

    def peft_state_dict(self, member: torch.Tensor) -> dict[str, torch.Tensor]:
        """One member as peft's saved adapter keys (``base_model.model.<name>.lora_A.weight``)."""
        state = {}
        for slot in self.slots:
            a, b = self.split(member.detach().float().cpu().unsqueeze(0), slot)
            prefix = f"base_model.model.{slot.module_name}"
            state[f"{prefix}.lora_A.weight"] = a[0].contiguous()
            state[f"{prefix}.lora_B.weight"] = b[0].contiguous()
        return state

    def member_from_peft_state(self, state: dict[str, torch.Tensor], source: str = "adapter") -> torch.Tensor:
        """Inverse of :meth:`peft_state_dict`; a missing or misshapen matrix names ``source``."""
        member = torch.zeros(self.dim)
        for slot in self.slots:
            prefix = f"base_model.model.{slot.module_name}"
            for key, size in ((f"{prefix}.lora_A.weight", slot.a_size),
                              (f"{prefix}.lora_B.weight", slot.size - slot.a_size)):
                if key not in state or state[key].numel() != size:
                    found = "missing" if key not in state else f"{state[key].numel()} numbers"
                    raise ConfigError("model.lora.init_adapter",
                                      f"{source}: {key} is {found}, the layout needs {size} "
                                      "(same model, r and target_modules as the run?)")
            a = state[f"{prefix}.lora_A.weight"].reshape(-1)
            b = state[f"{prefix}.lora_B.weight"].reshape(-1)
            member[slot.offset : slot.offset + slot.a_size] = a
            member[slot.offset + slot.a_size : slot.offset + slot.size] = b
        return member

    def peft_config(self, base_model_name: str | None) -> LoraConfig:
        """The LoraConfig that makes peft rebuild exactly this layout."""
        return LoraConfig(
            r=self.settings.r,
            lora_alpha=self.settings.alpha,  # type: ignore[arg-type]  # annotated int; peft scales by alpha / r
            lora_dropout=self.settings.dropout,
            target_modules=list(self.settings.target_modules),
            fan_in_fan_out=any(slot.is_conv1d for slot in self.slots),
            layers_to_transform=self.layers,
            layers_pattern=self.stack.pattern if self.layers is not None and self.stack else None,
            task_type="CAUSAL_LM",
            base_model_name_or_path=base_model_name,
        )

    def load_adapter(self, folder: str | Path) -> torch.Tensor:
        """The member saved in a peft adapter folder (``adapter_model.safetensors``), ``(D,)``."""
        path = Path(folder).expanduser() / ADAPTER_WEIGHTS
        if not path.is_file():
            raise ConfigError("model.lora.init_adapter", f"{path} not found: give a peft adapter folder "
                                                         "(e.g. a run's adapters/best)")
        return self.member_from_peft_state(load_file(str(path)), str(path))

    def save_adapter(self, member: torch.Tensor, folder: Path, base_model_name: str | None) -> Path:
        """Write a peft adapter folder (adapter_config.json + adapter_model.safetensors)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.peft_config(base_model_name).save_pretrained(str(folder))
        save_file(self.peft_state_dict(member), str(folder / ADAPTER_WEIGHTS),
                  metadata={"format": "pt"})
        return folder
