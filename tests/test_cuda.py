"""On a CUDA GPU: the evaluator, the shared bottom, bfloat16 and the RNG checkpoint agree
with the CPU path. Skipped without one (CI has none); run on a GPU machine with
``pytest tests/test_cuda.py``."""

from __future__ import annotations

import random

import pytest
import torch
from test_lora_batch import HEADED, PAIRS, _population

from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.models.loading import LoadedModel, load_model
from evosweep.rewards.likelihood import LikelihoodReward
from evosweep.rewards.sacrebleu_metrics import ChrfReward
from evosweep.settings.evaluation import EvalSettings
from evosweep.settings.model_conf import model_settings
from evosweep.state.checkpoint import capture_rng, restore_rng

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
MODELS = ["tiny-llama", "tiny-gpt2"]


def _load(name: str, device: str, dtype: str = "float32", layers: int | None = None) -> LoadedModel:
    settings = model_settings(name)
    settings.dtype = dtype
    settings.lora.layers = layers
    return load_model(settings, device)


def _scores(loaded: LoadedModel, population: torch.Tensor, reward, settings: EvalSettings) -> torch.Tensor:
    layout = LoraLayout.from_model(loaded.model, loaded.settings.lora)
    evaluator = PopulationEvaluator(loaded, BatchedLora(loaded.model, layout), reward, settings)
    return evaluator.evaluate(population, PAIRS + HEADED).scores


def _members(loaded: LoadedModel, size: int = 4) -> torch.Tensor:
    return _population(LoraLayout.from_model(loaded.model, loaded.settings.lora), size)


@pytest.mark.parametrize("name", MODELS)
def test_likelihood_on_cuda_equals_cpu(name):
    cpu, gpu = _load(name, "cpu"), _load(name, "cuda")
    members = _members(cpu)
    settings = EvalSettings(batch_size=8)
    expected = _scores(cpu, members, LikelihoodReward(append_eos=True), settings)
    got = _scores(gpu, members, LikelihoodReward(append_eos=True), settings)
    assert got.device.type == "cpu"  # fitness comes back to the search on the CPU
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", MODELS)
def test_greedy_answers_on_cuda_equal_cpu(name):
    cpu, gpu = _load(name, "cpu"), _load(name, "cuda")
    members = _members(cpu, 3)
    settings = EvalSettings(batch_size=8, max_new_tokens=6)
    expected = _scores(cpu, members, ChrfReward(), settings)
    torch.testing.assert_close(_scores(gpu, members, ChrfReward(), settings), expected)


@pytest.mark.parametrize("name", MODELS)
def test_shared_bottom_on_cuda_equals_every_layer_per_member(name):
    first, second = _load(name, "cuda", layers=1), _load(name, "cuda", layers=1)  # one evaluator each
    members = _members(first)
    reward = LikelihoodReward(append_eos=True)
    shared = _scores(first, members, reward, EvalSettings(batch_size=8, share_bottom=True))
    unshared = _scores(second, members, reward, EvalSettings(batch_size=8, share_bottom=False))
    torch.testing.assert_close(shared, unshared, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_on_cuda_stays_near_float32(dtype):
    full, half = _load("tiny-llama", "cuda"), _load("tiny-llama", "cuda", dtype)
    assert next(half.model.parameters()).dtype == getattr(torch, dtype)
    members = _members(full)
    reward, settings = LikelihoodReward(append_eos=True), EvalSettings(batch_size=8)
    expected = _scores(full, members, reward, settings)
    got = _scores(half, members, reward, settings)
    assert torch.isfinite(got).all()
    assert (got - expected).abs().max().item() < 0.5  # mean log p per token, in nats (about -7 here)
    assert torch.corrcoef(torch.stack([got.flatten(), expected.flatten()]))[0, 1] > 0.95


def test_cuda_rng_state_is_saved_and_restored():
    torch.cuda.manual_seed_all(3)
    state = capture_rng()
    assert len(state["cuda"]) == torch.cuda.device_count()
    first = (torch.rand(4, device="cuda"), torch.rand(2), random.random())
    restore_rng(state)
    second = (torch.rand(4, device="cuda"), torch.rand(2), random.random())
    for a, b in zip(first, second, strict=True):
        assert torch.equal(torch.as_tensor(a), torch.as_tensor(b))
