"""Seeds drawn from a run's generator to seed other generators (ES noise, workers' sampling)."""

from __future__ import annotations

import torch

#: drawn seeds lie in [0, SEED_RANGE): ``torch.randint`` draws below 2**63 and
#: ``torch.manual_seed`` takes up to 2**64 - 1; no drawn seed goes to numpy (2**32 - 1)
SEED_RANGE = 2**62


def draw_seeds(count: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``count`` seeds ``(count,)`` int64 from ``generator`` (None: torch's global generator)."""
    return torch.randint(SEED_RANGE, (count,), generator=generator)
