"""A GGUF model converted once: its dequantised weights and tokenizer saved as a plain
Hugging Face folder, so that later loads skip the conversion (about 24 s -> 0.4 s for
SmolLM2-135M on a 2-core CPU) and give the same weights, tokenizer and chat template.

The folder lives under ``$EVOSWEEP_CACHE_DIR`` (default ``$XDG_CACHE_HOME/evosweep``, else
``~/.cache/evosweep``), named after the GGUF file, its size and modification time and the
transformers version; ``EVOSWEEP_CACHE_DIR=off`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)

CACHE_ENV = "EVOSWEEP_CACHE_DIR"
COMPLETE = "evosweep-complete"  # written last: a folder without it is never read

Loader = Callable[[], tuple[PreTrainedModel, PreTrainedTokenizerBase]]


def cache_root() -> Path | None:
    """Where converted models are kept; None when ``EVOSWEEP_CACHE_DIR=off``."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "evosweep"


def converted_folder(gguf_path: Path, root: Path) -> Path:
    """The cache folder for this exact GGUF file (path, size, mtime) under this transformers."""
    stat = gguf_path.stat()
    key = f"{gguf_path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{transformers.__version__}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return root / "gguf" / f"{gguf_path.stem}-{digest}"


def load_gguf_cached(gguf_path: Path, dtype: torch.dtype, trust_remote_code: bool,
                     convert: Loader) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The model and tokenizer of ``gguf_path`` in ``dtype``: from the cache folder when it
    is complete, else from ``convert()`` (loading the GGUF itself, in float32), then saved."""
    root = cache_root()
    if root is None:
        return convert()
    folder = converted_folder(gguf_path, root)
    if (folder / COMPLETE).exists():
        try:
            cached_tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code)
            cached = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype,
                                                          trust_remote_code=trust_remote_code)
            return cached, cached_tokenizer
        except (OSError, ValueError) as error:  # damaged by hand or by the disk: convert afresh
            log.warning("the cached conversion in %s does not load (%s); converting %s again",
                        folder, error, gguf_path.name)
            shutil.rmtree(folder, ignore_errors=True)
    model, tokenizer = convert()
    _save(model, tokenizer, folder)
    torch.nn.Module.to(model, dtype)  # in place, the same rounding as the GGUF loader's own cast
    return model, tokenizer


def _save(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, folder: Path) -> None:
    """Write the converted folder next to its final place, then move it there in one step;
    a cache that cannot be written (read-only home, full disk) only costs the next load time."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    except OSError as error:
        _warn_unwritable(folder, error)
        return
    try:
        # the dequantised weights are plain tensors: save them as an ordinary model
        quantizer = model.__dict__.get("hf_quantizer")
        quantization = model.config.__dict__.pop("quantization_config", None)
        model.__dict__["hf_quantizer"] = None  # its check refuses to save GGUF-loaded models
        try:
            model.save_pretrained(staging)
        finally:
            model.__dict__["hf_quantizer"] = quantizer
            if quantization is not None:
                model.config.quantization_config = quantization
        tokenizer.save_pretrained(staging)
        (staging / COMPLETE).write_text("converted from GGUF by evosweep\n")
        if not (folder / COMPLETE).exists():  # another run may have finished first: keep its folder
            if folder.exists():  # never one of ours (they move in complete): left by hand
                shutil.rmtree(folder)
            os.replace(staging, folder)
            log.info("converted model cached in %s", folder)
    except OSError as error:
        if (folder / COMPLETE).exists():  # lost the race to a run that finished while we saved
            return
        _warn_unwritable(folder, error)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _warn_unwritable(folder: Path, error: OSError) -> None:
    """One warning: the model loads, only the cache is missing."""
    log.warning("could not cache the converted model in %s (%s); set %s to a writable folder",
                folder, error, CACHE_ENV)
