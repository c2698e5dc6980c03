"""The four evaluations :mod:`evosweep.bench` times on one P members x N prompts grid.

- ``seed_loop``: the original design: one peft adapter, its weights copied in
  for each member, then ``generate`` one prompt at a time.
- ``batched``: evosweep's :class:`PopulationEvaluator` (one batched pass per chunk,
  the prompts' common head prefilled once per member unless ``--no-share-prefix``).
- ``plain``: the same chunks through the base model without LoRA: the ceiling.
- ``peft_mixed``: peft with all P adapters loaded and ``generate(adapter_names=...)``.

All four share the base model's weight tensors (module trees are copied, weights
are not) and generate exactly ``new_tokens`` tokens per row (end-of-sequence is
ignored), so each does the same work on the same prompts.
"""

from __future__ import annotations

import copy
import itertools
from contextlib import contextmanager
from dataclasses import replace
from typing import TypeVar

import torch
from peft import PeftModel, get_peft_model, set_peft_model_state_dict
from torch import nn

from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.evaluation.generation import generate_grid, generation_kwargs, no_chunk_context
from evosweep.evaluation.prompts import encode_prompts
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.models.generates import LanguageModel
from evosweep.models.loading import LoadedModel
from evosweep.settings.evaluation import EvalSettings
from evosweep.tasks.pairs import Pair

METHODS = ("seed_loop", "batched", "plain", "peft_mixed")
SEED_ADAPTER = "seed"

Module = TypeVar("Module", bound=nn.Module)


def shared_copy(model: Module) -> Module:
    """A second module tree over the same parameter and buffer tensors (no weight copy)."""
    memo = {id(tensor): tensor for tensor in itertools.chain(model.parameters(), model.buffers())}
    return copy.deepcopy(model, memo)


def _unused_reward(*_args, **_kwargs) -> list[float]:
    raise RuntimeError("the bench only generates; it never scores")


def _peft_population(model: nn.Module, layout: LoraLayout, population: torch.Tensor) -> PeftModel:
    """peft with one adapter per member (``m0`` ... ``m{P-1}``) plus the seed loop's adapter."""
    config = layout.peft_config(None)
    names = [f"m{index}" for index in range(population.shape[0])]
    peft_model = get_peft_model(model, config, adapter_name=SEED_ADAPTER)
    for name, member in zip(names, population, strict=True):
        peft_model.add_adapter(name, config)
        set_peft_model_state_dict(peft_model, layout.peft_state_dict(member), adapter_name=name)
    peft_model.set_adapter(SEED_ADAPTER)
    return peft_model.eval()


class Contenders:
    """Loads every method's model once; each method evaluates the grid and returns its evals."""

    def __init__(self, loaded: LoadedModel, layout: LoraLayout, population: torch.Tensor,
                 pairs: list[Pair], settings: EvalSettings, methods: tuple[str, ...] = METHODS) -> None:
        self.loaded = loaded
        self.layout = layout
        self.population = population  # (P, D)
        self.pairs = pairs
        self.settings = settings
        loaded.model.generation_config.eos_token_id = None  # every row runs to max_new_tokens
        self.plain_model = shared_copy(loaded.model) if "plain" in methods else None
        wants_peft = {"seed_loop", "peft_mixed"} & set(methods)
        self.peft = _peft_population(shared_copy(loaded.model), layout, population) if wants_peft else None
        self.evaluator = PopulationEvaluator(loaded, BatchedLora(loaded.model, layout), _unused_reward,
                                             settings)

    def _kwargs(self, new_tokens: int) -> dict:
        """Generation kwargs of every method; also sets the evaluator's ``max_new_tokens``."""
        self.evaluator.settings = replace(self.settings, max_new_tokens=new_tokens)
        return generation_kwargs(self.evaluator.settings, self.loaded.tokenizer.pad_token_id)

    def _chunked(self, model: LanguageModel | None, new_tokens: int, adapters: bool) -> int:
        """The evaluator's chunks through ``model``; with ``adapters``, row i names its member."""

        @contextmanager
        def adapter_names(members: slice, prompts: slice):
            count = prompts.stop - prompts.start
            yield {"adapter_names": [f"m{m}" for m in range(members.start, members.stop)
                                     for _ in range(count)]}

        if model is None:
            raise ValueError("this method's model was not loaded (see Contenders(methods=...))")
        encoded = encode_prompts(self.loaded, self.pairs, self.evaluator._device)
        generate_grid(model, self.loaded.tokenizer, encoded, self.population.shape[0],
                      self.settings.batch_size, self._kwargs(new_tokens),
                      adapter_names if adapters else no_chunk_context)
        return self.population.shape[0] * len(self.pairs)

    @torch.inference_mode()
    def plain(self, new_tokens: int) -> int:
        return self._chunked(self.plain_model, new_tokens, adapters=False)

    @torch.inference_mode()
    def peft_mixed(self, new_tokens: int) -> int:
        return self._chunked(self.peft, new_tokens, adapters=True)

    @torch.inference_mode()
    def batched(self, new_tokens: int) -> int:
        self._kwargs(new_tokens)
        self.evaluator.generate(self.population, self.pairs)
        return self.population.shape[0] * len(self.pairs)

    @torch.inference_mode()
    def seed_loop(self, new_tokens: int, members: int, prompts: int | None = None) -> int:
        """``members`` x ``prompts`` evaluations, one member and one prompt at a time."""
        tokenizer, kwargs = self.loaded.tokenizer, self._kwargs(new_tokens)
        pairs = self.pairs[:prompts]
        if self.peft is None:
            raise ValueError("seed_loop's peft model was not loaded (see Contenders(methods=...))")
        for member in self.population[:members]:
            set_peft_model_state_dict(self.peft, self.layout.peft_state_dict(member),
                                      adapter_name=SEED_ADAPTER)
            for pair in pairs:
                inputs = tokenizer(self.loaded.format_prompt(pair.prompt), return_tensors="pt",
                                   add_special_tokens=not self.loaded.settings.chat_template)
                inputs = inputs.to(self.peft.device)
                out = self.peft.generate(**inputs, **kwargs)  # (1, L+T)
                tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        return min(members, self.population.shape[0]) * len(pairs)
