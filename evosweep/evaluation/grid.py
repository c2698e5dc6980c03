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
    """A chunk's rows, member-major: the sliced prompts once per member, ``(p*n, L)`` each."""
    count = members.stop - members.start
    return {key: value[prompts].repeat(count, 1) for key, value in tensors.items()}
