"""Noise scaled per module by its effect on that module's output: ``algorithm.noise_scale``.

With one ``sigma`` for every LoRA entry, a perturbation of ``B`` moves a module's
output by ``scaling * sigma * |A x|``, which measured on SmolLM2's prompts ranges over
more than an order of magnitude against the size of the module's own output ``|W x|``:
some modules are shaken hard, others barely. ``module_output`` gives every module a
factor ``|W x| / (scaling * |A x|)`` (RMS over the train prompts' tokens, base model,
initial ``A``), so a unit of noise changes each module's output by the same share of
its size. The factors are normalised to an RMS of 1 over the evolved entries, so the
perturbation's total size stays ``sigma``'s; entries that do not evolve get 1.
"""

from __future__ import annotations

import torch

from evosweep.errors import ConfigError
from evosweep.evaluation.prompts import encode_prompts
from evosweep.lora.batched import BatchedLora
from evosweep.models.loading import LoadedModel
from evosweep.settings.checks import require_choice
from evosweep.tasks.pairs import Pair

NOISE_SCALES = ("uniform", "module_output")
CALIBRATION_PROMPTS = 16  # train prompts read to measure each module's activations


def check_noise_scale(value: str) -> None:
    """Reject an unknown ``algorithm.noise_scale``."""
    require_choice("algorithm.noise_scale", value, NOISE_SCALES)


def _masked_rms(values: torch.Tensor, mask: torch.Tensor) -> float:
    """RMS of ``values`` ``(N, L, F)`` over the real tokens of ``mask`` ``(N, L)``."""
    return float(values[mask.bool()].float().pow(2).mean().sqrt())


def module_output_ratios(loaded: LoadedModel, lora: BatchedLora, member: torch.Tensor,
                         pairs: list[Pair]) -> list[float]:
    """Per slot of ``lora.layout``: RMS of the base output over RMS of ``scaling * A x``.

    One no-grad forward of the base model (no member set) over up to
    :data:`CALIBRATION_PROMPTS` of ``pairs``; ``A`` is ``member``'s ``(D,)``.
    """
    if not pairs:
        raise ConfigError("algorithm.noise_scale", "module_output measures each module on the train prompts, "
                                                   "and the task has none: use uniform")
    layout = lora.layout
    device = next(loaded.model.parameters()).device
    encoded = encode_prompts(loaded, pairs[:CALIBRATION_PROMPTS], device)
    mask = encoded["attention_mask"]
    flat = member.detach().to(device=device, dtype=next(loaded.model.parameters()).dtype).unsqueeze(0)
    ratios: dict[str, float] = {}

    def record(layer):  # one hook per wrapped module, on its frozen base
        a = layout.split(flat, layer.slot)[0][0]  # (r, in)

        def hook(_module, inputs, output):
            low = inputs[0] @ a.T * layout.settings.scaling  # (N, L, r)
            ratios[layer.slot.module_name] = _masked_rms(output, mask) / max(_masked_rms(low, mask), 1e-12)
        return hook

    handles = [layer.base.register_forward_hook(record(layer)) for layer in lora.layers]
    try:
        with torch.no_grad():
            loaded.model(**encoded)
    finally:
        for handle in handles:
            handle.remove()
    return [ratios[slot.module_name] for slot in layout.slots]


def module_output_scales(loaded: LoadedModel, lora: BatchedLora, member: torch.Tensor, pairs: list[Pair],
                         mask: torch.Tensor | None) -> torch.Tensor:
    """``(D,)`` factors for ``algorithm.noise_scale=module_output``: each slot's ratio, RMS 1
    over the entries ``mask`` evolves (all when None), 1 on the others."""
    layout = lora.layout
    scales = torch.ones(layout.dim)
    for slot, ratio in zip(layout.slots, module_output_ratios(loaded, lora, member, pairs), strict=True):
        scales[slot.offset : slot.offset + slot.size] = ratio
    evolved = torch.ones(layout.dim, dtype=torch.bool) if mask is None else mask
    scales[evolved] /= scales[evolved].pow(2).mean().sqrt()
    scales[~evolved] = 1.0
    return scales
