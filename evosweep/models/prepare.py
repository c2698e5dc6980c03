"""`python -m evosweep.models.prepare [MODEL]`: load a conf/model once, so that a GGUF model
is converted and cached before the first run needs it (`make setup` does this for the
default, SmolLM2-135M-Instruct)."""

from __future__ import annotations

import argparse
import time

from evosweep.errors import ModelLoadError
from evosweep.models.gguf_cache import cache_root
from evosweep.models.loading import load_model
from evosweep.settings.model_conf import model_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evosweep.models.prepare",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("model", nargs="?", default="smollm2-135m", help="a conf/model name or yaml path")
    args = parser.parse_args(argv)
    settings = model_settings(args.model)
    started = time.perf_counter()
    try:
        load_model(settings)
    except ModelLoadError as error:
        raise SystemExit(str(error)) from None
    root = cache_root()
    if not settings.gguf_file:
        where = "no GGUF file: nothing to convert"
    else:
        where = ("not cached: EVOSWEEP_CACHE_DIR=off" if root is None
                 else f"converted GGUF cached under {root}")
    print(f"{args.model}: loaded in {time.perf_counter() - started:.1f} s ({where})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
