"""The RNG states a checkpoint keeps: CPU and python always, each GPU's only where there are GPUs."""

from __future__ import annotations

import logging
import random

import pytest
import torch

from evosweep.state import checkpoint
from evosweep.state.checkpoint import capture_rng, load_checkpoint, restore_rng, save_checkpoint


def _draws() -> tuple[list[float], list[float]]:
    return torch.rand(3).tolist(), [random.random() for _ in range(3)]


def test_cpu_and_python_states_round_trip_through_a_checkpoint(tmp_path) -> None:
    save_checkpoint(tmp_path, {"rng": capture_rng()})
    expected = _draws()
    _draws()  # the states move on
    restore_rng(load_checkpoint(tmp_path)["rng"])
    assert _draws() == expected


class FakeCuda:
    """``torch.cuda`` with ``gpus`` devices: their states are tensors of the device number."""

    def __init__(self, gpus: int) -> None:
        self.gpus = gpus
        self.set: list[list[torch.Tensor]] = []

    def is_available(self) -> bool:
        return self.gpus > 0

    def device_count(self) -> int:
        return self.gpus

    def get_rng_state_all(self) -> list[torch.Tensor]:
        if not self.gpus:
            raise RuntimeError("no GPU: get_rng_state_all must not be called")
        return [torch.full((4,), index, dtype=torch.uint8) for index in range(self.gpus)]

    def set_rng_state_all(self, states: list[torch.Tensor]) -> None:
        if not self.gpus:
            raise RuntimeError("no GPU: set_rng_state_all must not be called")
        self.set.append(states)


@pytest.fixture
def cuda(monkeypatch: pytest.MonkeyPatch):
    """Installs a FakeCuda with the number of GPUs asked for."""

    def install(gpus: int) -> FakeCuda:
        fake = FakeCuda(gpus)
        monkeypatch.setattr(checkpoint.torch, "cuda", fake)
        return fake

    return install


def test_without_cuda_nothing_is_recorded_for_it_and_restore_is_clean(cuda) -> None:
    cuda(0)
    state = capture_rng()
    assert set(state) == {"torch", "python"}
    restore_rng(state)  # FakeCuda raises if a GPU call is made


def test_a_gpu_checkpoint_resumes_on_a_machine_without_cuda(cuda, tmp_path) -> None:
    """The GPU states are kept, not applied: nothing to apply them to."""
    cuda(2)
    save_checkpoint(tmp_path, {"rng": capture_rng()})
    cuda(0)
    state = load_checkpoint(tmp_path)["rng"]
    assert [int(s[0]) for s in state["cuda"]] == [0, 1]
    expected = _draws()
    restore_rng(state)
    assert _draws() == expected


def test_gpu_states_are_restored_onto_as_many_gpus(cuda, tmp_path) -> None:
    cuda(2)
    save_checkpoint(tmp_path, {"rng": capture_rng()})
    fake = cuda(2)
    restore_rng(load_checkpoint(tmp_path)["rng"])
    assert [[int(s[0]) for s in states] for states in fake.set] == [[0, 1]]


def test_gpu_states_for_another_gpu_count_are_skipped_with_a_warning(cuda, caplog) -> None:
    cuda(2)
    state = capture_rng()
    fake = cuda(1)
    with caplog.at_level(logging.WARNING, logger=checkpoint.__name__):
        restore_rng(state)
    assert fake.set == []
    assert "2 GPU(s), this machine has 1" in caplog.text


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_real_gpu_states_round_trip(tmp_path) -> None:
    save_checkpoint(tmp_path, {"rng": capture_rng()})
    expected = torch.rand(3, device="cuda").tolist()
    torch.rand(3, device="cuda")
    restore_rng(load_checkpoint(tmp_path)["rng"])
    assert torch.rand(3, device="cuda").tolist() == expected
