"""The members x prompts grid cut into chunks of rows (member-major)."""

from __future__ import annotations

from collections.abc import Iterator

import torch


def chunk_grid(members: int, prompts: int, batch_size: int) -> Iterator[tuple[slice, slice]]:
    """Cut the members x prompts grid into blocks of at most ``batch_size`` rows."""
    if prompts <= batch_size:
        step = max(1, batch_size // prompts)
        for start in range(0, members, step):
            yield slice(start, min(start + step, members)), slice(0, prompts)
    else:
        for member in range(members):
            for start in range(0, prompts, batch_size):
                yield slice(member, member + 1), slice(start, min(start + batch_size, prompts))


def grid_rows(tensors: dict[str, torch.Tensor], members: slice, prompts: slice) -> dict[str, torch.Tensor]:
    """A chunk's rows, member-major, ``(p*n, L)`` each.

    ``(N, L)`` tensors (every member reads the same prompts) are repeated per member;
    ``(P, N, L)`` tensors (each member its own prompt variant) are sliced by member.
    """
    count = members.stop - members.start
    return {key: value[members, prompts].reshape(-1, value.shape[-1]) if value.dim() == 3
            else value[prompts].repeat(count, 1) for key, value in tensors.items()}
