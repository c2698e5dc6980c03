"""Which device a run uses: ``device=auto|cpu|cuda|cuda:N|mps``, checked before anything loads."""

from __future__ import annotations

import torch

from evosweep.errors import ConfigError


def resolve_device(device: str) -> str:
    """``auto`` -> cuda when available, else cpu; an unavailable device is a ConfigError."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    kind = device.split(":", 1)[0]
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("device", f"{device!r} but this torch build sees no CUDA GPU "
                                        f"(torch {torch.__version__}); use device=cpu or device=auto")
        index = int(device.split(":", 1)[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ConfigError("device", f"{device!r} but only {torch.cuda.device_count()} GPU(s) are visible")
    elif kind == "mps":
        if not torch.backends.mps.is_available():
            raise ConfigError("device", "'mps' is not available here; use device=cpu or device=auto")
    elif kind != "cpu":
        raise ConfigError("device", f"unknown device {device!r}; use auto, cpu, cuda, cuda:N or mps")
    return device


def synchronize() -> None:
    """Wait for every queued CUDA kernel (a no-op without CUDA): timings then cover the work."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()
