"""A flat ``(D,)`` LoRA vector trained with Adam: the loop that sft and the policy-gradient trainer share.

The adapter is one ``torch.nn.Parameter`` on the model's device, passed through
``BatchedLora.members`` so gradients reach it through the frozen model. A step
zeroes the gradient, backpropagates the loss, zeroes the entries outside
``mask`` (so Adam never moves them), clips the gradient norm to
``max_grad_norm`` (0: no clipping) and lets Adam update the vector.
"""

from __future__ import annotations

import copy
from typing import Any

import torch


class FlatAdamTrainer:
    """Holds the trainable ``(D,)`` adapter (``policy``) and its Adam state."""

    def __init__(self, initial_member: torch.Tensor, device: torch.device, learning_rate: float,
                 max_grad_norm: float, mask: torch.Tensor | None = None) -> None:
        self.policy = torch.nn.Parameter(initial_member.clone().float().to(device))  # (D,)
        self.optimizer = torch.optim.Adam([self.policy], lr=learning_rate)
        self.max_grad_norm = max_grad_norm
        self.mask = None if mask is None else mask.to(device=device, dtype=self.policy.dtype)  # (D,)

    def update(self, loss: torch.Tensor) -> None:
        """One Adam step down the gradient of ``loss`` (a scalar of ``policy``)."""
        self.optimizer.zero_grad()
        loss.backward()
        if self.mask is not None:  # entries outside the mask keep a zero gradient
            self.policy.grad.mul_(self.mask)
        if self.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_([self.policy], self.max_grad_norm)
        self.optimizer.step()

    def member(self) -> torch.Tensor:
        """The adapter as it stands, ``(D,)``, detached from the graph."""
        return self.policy.detach().clone()

    def load_member(self, member: torch.Tensor) -> None:
        """Continue training from ``member`` (``(D,)``); the Adam state carries over."""
        with torch.no_grad():
            self.policy.copy_(member)

    def state_dict(self) -> dict[str, Any]:
        """The adapter and Adam's moments (``policy``, ``optimizer``)."""
        return {"policy": self.member(), "optimizer": copy.deepcopy(self.optimizer.state_dict())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put back what :meth:`state_dict` returned."""
        self.load_member(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])

