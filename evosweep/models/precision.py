"""Which dtype the frozen weights get: ``model.dtype=auto`` or a torch dtype's name.

``auto`` picks bfloat16 where the device computes it natively (a CUDA GPU with bf16
support; a CPU whose oneDNN kernels run bf16: AVX-512 or Arm bf16) and float32
elsewhere. On this project's 2-core CPU bfloat16 scores 1.8x the population
evaluations per CPU second of float32 (docs/performance.md); a CPU without those
instructions would emulate bf16 slowly, so it keeps float32.
"""

from __future__ import annotations

import torch

from evosweep.models.device import resolve_device

AUTO = "auto"


def bfloat16_is_native(device: str) -> bool:
    """Whether ``device`` (cpu, cuda, cuda:N, mps) runs bfloat16 matmuls natively."""
    kind = device.split(":", 1)[0]
    if kind == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if kind == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):  # a build without oneDNN
            return False
    return False


def resolve_dtype(name: str, device: str) -> torch.dtype:
    """``model.dtype`` as a torch dtype on ``device``; ``auto`` as the module docstring says."""
    if name == AUTO:
        return torch.bfloat16 if bfloat16_is_native(resolve_device(device)) else torch.float32
    return getattr(torch, name)
