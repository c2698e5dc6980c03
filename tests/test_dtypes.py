"""Half-precision base weights on CPU: float32 members, bfloat16/float16 model, same search.

The population stays float32 (the algorithms' arithmetic); the batched LoRA casts each
member to the weights' dtype. Scores differ from float32 by rounding only, so members
whose float32 scores are far apart keep their order.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from conftest import TINY_RUN
from safetensors.torch import load_file

from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.models.loading import load_model
from evosweep.rewards.likelihood import LikelihoodReward
from evosweep.run import run
from evosweep.settings.evaluation import EvalSettings
from evosweep.settings.model_conf import model_settings
from evosweep.tasks.pairs import Pair

PAIRS = [Pair("hello there", "general"), Pair("a", "bc"), Pair("longer prompt here!", "x")]
MODELS = ["tiny-gpt2", "tiny-llama"]
HALF = [torch.bfloat16, torch.float16]
#: how far a half-precision mean log-likelihood may be from float32's (bfloat16: ~3 digits)
TOLERANCE = 0.15


def _evaluator(name: str, dtype: torch.dtype, **settings) -> tuple[PopulationEvaluator, torch.Tensor]:
    """The model ``name`` loaded in ``dtype`` and a float32 population of 6 spread-out members."""
    loaded = load_model(dataclasses.replace(model_settings(name), dtype=str(dtype).removeprefix("torch.")))
    assert {p.dtype for p in loaded.model.parameters()} == {dtype}
    layout = LoraLayout.from_model(loaded.model, loaded.settings.lora)
    generator = torch.Generator().manual_seed(7)
    population = layout.initial_member(generator) + torch.randn(6, layout.dim, generator=generator)
    assert population.dtype == torch.float32
    evaluator = PopulationEvaluator(loaded, BatchedLora(loaded.model, layout),
                                    LikelihoodReward(append_eos=True), EvalSettings(batch_size=5, **settings))
    return evaluator, population


@pytest.mark.parametrize("dtype", HALF, ids=str)
@pytest.mark.parametrize("name", MODELS)
def test_half_precision_scores_are_float32_s_up_to_rounding(name: str, dtype: torch.dtype) -> None:
    evaluator, population = _evaluator(name, torch.float32)
    exact = evaluator.evaluate(population, PAIRS).fitness
    half_evaluator, same_population = _evaluator(name, dtype)
    assert torch.equal(same_population, population)
    half = half_evaluator.evaluate(population, PAIRS).fitness
    assert half.dtype == torch.float32 and bool(half.isfinite().all())
    torch.testing.assert_close(half, exact, atol=TOLERANCE, rtol=0)
    assert int(half.argmax()) == int(exact.argmax())
    for i in range(len(exact)):  # members further apart than twice the rounding keep their order
        for j in range(len(exact)):
            if exact[i] - exact[j] > 2 * TOLERANCE:
                assert half[i] > half[j], (i, j)


@pytest.mark.parametrize("name", MODELS)
def test_bfloat16_greedy_generation_runs_with_float32_members(name: str) -> None:
    evaluator, population = _evaluator(name, torch.bfloat16, max_new_tokens=4)
    texts = evaluator.generate(population, PAIRS)
    assert len(texts) == len(population) and all(len(row) == len(PAIRS) for row in texts)
    assert all(isinstance(text, str) for row in texts for text in row)


def test_a_bfloat16_run_finishes_and_saves_its_adapter(compose_config, tmp_path) -> None:
    """model.dtype=bfloat16 reaches the built-in tiny model too, and a whole run goes through."""
    final = run(compose_config(TINY_RUN + ["model.dtype=bfloat16", "algorithm.generations=2"]), tmp_path)
    assert torch.isfinite(torch.tensor(final))
    adapter = load_file(tmp_path / "adapters" / "best" / "adapter_model.safetensors")
    assert adapter and all(bool(t.isfinite().all()) for t in adapter.values())


def test_auto_dtype_is_bfloat16_where_the_device_runs_it_natively():
    from evosweep.models.precision import bfloat16_is_native, resolve_dtype

    native = torch.bfloat16 if bfloat16_is_native("cpu") else torch.float32
    assert resolve_dtype("auto", "cpu") == native
    assert resolve_dtype("float32", "cpu") == torch.float32
    assert resolve_dtype("float16", "cpu") == torch.float16
    assert not bfloat16_is_native("mps")
    loaded = load_model(dataclasses.replace(model_settings("tiny-llama"), dtype="auto"))
    assert {p.dtype for p in loaded.model.parameters()} == {native}


def test_an_unknown_dtype_names_the_field_and_the_choices():
    from evosweep.errors import ConfigError

    with pytest.raises(ConfigError, match="model.dtype.*auto"):
        dataclasses.replace(model_settings("tiny-llama"), dtype="int4")
