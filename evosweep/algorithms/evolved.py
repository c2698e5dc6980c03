"""Which LoRA entries evolution moves: ``algorithm.evolve``.

``all`` perturbs A and B. ``lora_b`` keeps every A at its shared random init
(as LoRA-FA does) and perturbs only B: with peft's init B = 0 the adapter's
update ``scale * B @ A`` is then linear in what evolves, whereas noise on A
does nothing to first order while B is still 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from evosweep.settings.checks import require_choice

if TYPE_CHECKING:
    from evosweep.lora.layout import LoraLayout

EVOLVE_CHOICES = ("all", "lora_b")


def check_evolve(value: str) -> None:
    """Reject an unknown ``algorithm.evolve``."""
    require_choice("algorithm.evolve", value, EVOLVE_CHOICES)


def evolved_mask(evolve: str, layout: LoraLayout | None) -> torch.Tensor | None:
    """``(D,)`` bools of the entries that evolve, or None for all of them.

    ``lora_b`` needs the ``layout`` (where the B entries lie)."""
    if evolve != "lora_b":
        return None
    if layout is None:
        raise ValueError("algorithm.evolve=lora_b needs the LoRA layout: the context has none")
    return layout.b_mask()


def restrict(noise: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Zero the entries of ``noise`` (``(..., D)``) that do not evolve."""
    return noise if mask is None else noise * mask
