"""The converted-GGUF cache: written once, read back the same, never half-written, optional."""

from __future__ import annotations

import logging
import os

import pytest
import torch

from evosweep.models import gguf_cache
from evosweep.models.gguf_cache import COMPLETE, converted_folder, load_gguf_cached
from evosweep.models.loading import load_model
from evosweep.models.tiny import build_tiny_gpt2, byte_level_tokenizer
from evosweep.settings.model_conf import model_settings


@pytest.fixture
def gguf_file(tmp_path):
    path = tmp_path / "models" / "tiny.Q4.gguf"
    path.parent.mkdir()
    path.write_bytes(b"GGUF stand-in: the cache keys on the file, the loader is the test's")
    return path


class Converter:
    """Counts conversions; returns a tiny GPT-2 in float32 as the GGUF loader would."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return build_tiny_gpt2(seed=3), byte_level_tokenizer()


def same_weights(first, second) -> bool:
    a, b = first.state_dict(), second.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_first_load_converts_and_saves_later_loads_read_the_folder(gguf_file, tmp_path, monkeypatch):
    monkeypatch.setenv("EVOSWEEP_CACHE_DIR", str(tmp_path / "cache"))
    convert = Converter()
    model, tokenizer = load_gguf_cached(gguf_file, torch.float32, False, convert)
    folder = converted_folder(gguf_file, tmp_path / "cache")
    assert convert.calls == 1 and (folder / COMPLETE).exists()
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no staging folder left
    cached, cached_tokenizer = load_gguf_cached(gguf_file, torch.float32, False, convert)
    assert convert.calls == 1  # read from the folder, not converted again
    assert same_weights(cached, model)
    text = "s'il vous plaît, écrire"
    assert cached_tokenizer(text)["input_ids"] == tokenizer(text)["input_ids"]


def test_the_dtype_is_cast_alike_from_the_gguf_and_from_the_cache(gguf_file, tmp_path, monkeypatch):
    monkeypatch.setenv("EVOSWEEP_CACHE_DIR", str(tmp_path / "cache"))
    converted, _ = load_gguf_cached(gguf_file, torch.bfloat16, False, Converter())
    cached, _ = load_gguf_cached(gguf_file, torch.bfloat16, False, Converter())
    assert next(converted.parameters()).dtype == torch.bfloat16 == next(cached.parameters()).dtype
    assert same_weights(converted, cached)


def test_another_file_or_a_changed_file_gets_its_own_folder(gguf_file, tmp_path):
    before = converted_folder(gguf_file, tmp_path)
    other = gguf_file.with_name("other.gguf")
    other.write_bytes(gguf_file.read_bytes())
    assert converted_folder(other, tmp_path) != before
    os.utime(gguf_file, ns=(0, 0))
    assert converted_folder(gguf_file, tmp_path) != before


def test_off_never_writes(gguf_file, tmp_path, monkeypatch):
    monkeypatch.setenv("EVOSWEEP_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    convert = Converter()
    load_gguf_cached(gguf_file, torch.float32, False, convert)
    load_gguf_cached(gguf_file, torch.float32, False, convert)
    assert convert.calls == 2 and not (tmp_path / "xdg").exists()


def test_default_root_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.delenv("EVOSWEEP_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert gguf_cache.cache_root() == tmp_path / "evosweep"


def test_an_unwritable_cache_warns_once_and_still_returns_the_model(gguf_file, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("EVOSWEEP_CACHE_DIR", str(blocker))
    with caplog.at_level(logging.WARNING, logger="evosweep.models.gguf_cache"):
        model, _ = load_gguf_cached(gguf_file, torch.float32, False, Converter())
    assert same_weights(model, build_tiny_gpt2(seed=3))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "EVOSWEEP_CACHE_DIR" in warnings[0]


def test_a_folder_without_its_marker_is_converted_again(gguf_file, tmp_path, monkeypatch):
    monkeypatch.setenv("EVOSWEEP_CACHE_DIR", str(tmp_path / "cache"))
    folder = converted_folder(gguf_file, tmp_path / "cache")
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{ half-written")
    convert = Converter()
    model, _ = load_gguf_cached(gguf_file, torch.float32, False, convert)
    assert convert.calls == 1 and same_weights(model, build_tiny_gpt2(seed=3))
    assert (folder / COMPLETE).exists()  # replaced by a complete folder
    load_gguf_cached(gguf_file, torch.float32, False, convert)
    assert convert.calls == 1


def test_a_damaged_cached_folder_warns_and_is_converted_again(gguf_file, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("EVOSWEEP_CACHE_DIR", str(tmp_path / "cache"))
    convert = Converter()
    load_gguf_cached(gguf_file, torch.float32, False, convert)
    folder = converted_folder(gguf_file, tmp_path / "cache")
    (folder / "config.json").write_text("{ not json")
    with caplog.at_level(logging.WARNING, logger="evosweep.models.gguf_cache"):
        model, _ = load_gguf_cached(gguf_file, torch.float32, False, convert)
    assert convert.calls == 2 and same_weights(model, build_tiny_gpt2(seed=3))
    assert "does not load" in caplog.text
    load_gguf_cached(gguf_file, torch.float32, False, convert)
    assert convert.calls == 2  # repaired


@pytest.mark.slow
def test_smollm2_from_the_cache_equals_the_gguf(tmp_path, monkeypatch):
    """The default model: weights, logits, tokenizer and chat template the same either way."""
    pytest.importorskip("gguf")
    settings = model_settings("smollm2-135m")
    settings = type(settings)(**{**settings.__dict__, "dtype": "float32"})
    monkeypatch.setenv("EVOSWEEP_CACHE_DIR", "off")
    direct = load_model(settings)
    monkeypatch.setenv("EVOSWEEP_CACHE_DIR", str(tmp_path / "cache"))
    load_model(settings)  # converts and saves
    cached = load_model(settings)  # reads the folder
    assert same_weights(direct.model, cached.model)
    prompt = direct.format_prompt("Translate 'écrire' to English:")
    assert cached.format_prompt("Translate 'écrire' to English:") == prompt
    ids = direct.tokenizer([prompt], return_tensors="pt")
    assert ids["input_ids"].tolist() == cached.tokenizer([prompt], return_tensors="pt")["input_ids"].tolist()
    with torch.no_grad():
        assert torch.equal(direct.model(**ids).logits, cached.model(**ids).logits)


def test_prepare_loads_a_model_config_and_says_what_it_did(capsys):
    from evosweep.models.prepare import main

    assert main(["tiny-gpt2"]) == 0
    assert "tiny-gpt2: loaded in" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no model config"):
        main(["no-such-model"])
