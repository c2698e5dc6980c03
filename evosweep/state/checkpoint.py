"""Atomic checkpoints: a run killed at any moment resumes from its last generation.

The file is written to a temporary name in the run folder, flushed to disk
and renamed over ``checkpoint.pt`` (``os.replace`` is atomic), so a kill
mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import logging
import os
import pickle
import random
import tempfile
from pathlib import Path
from typing import Any

import torch

from evosweep.errors import CheckpointError, ConfigError, first_line
from evosweep.testing_hooks import kill_point

CHECKPOINT_NAME = "checkpoint.pt"
#: config keys that may differ between a run and its resumption: none of them changes the search
#: (evaluation workers give the same scores; the rating page may move to another port)
RESUME_FREE_KEYS = ("resume", "eval.workers", "eval.gpus_per_worker", "tracking.run_name",
                    "tracking.system_metrics_every_s",
                    "reward.host", "reward.port", "reward.token", "reward.timeout_s")

log = logging.getLogger(__name__)


def capture_rng() -> dict[str, Any]:
    """The global RNG states a generation may touch: torch's CPU one, every GPU's (sampling and
    dropout draw there on a GPU) and python's."""
    state = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Put back what :func:`capture_rng` took; GPU states only onto as many GPUs as were saved."""
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    saved_gpus = state.get("cuda")
    if saved_gpus and torch.cuda.is_available():
        if len(saved_gpus) != torch.cuda.device_count():
            log.warning("the checkpoint holds the RNG state of %d GPU(s), this machine has %d: "
                        "the resumed run will not repeat the uninterrupted one exactly",
                        len(saved_gpus), torch.cuda.device_count())
        else:
            torch.cuda.set_rng_state_all(saved_gpus)


def save_checkpoint(folder: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``folder/checkpoint.pt`` atomically (temp file, fsync, rename)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / CHECKPOINT_NAME
    handle, temporary = tempfile.mkstemp(prefix=".checkpoint-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(state, stream)
            stream.flush()
            os.fsync(stream.fileno())
        kill_point("checkpoint.mid_write")  # tests only: written, not yet renamed into place
        os.replace(temporary, target)
        kill_point("checkpoint.after_write")
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def load_checkpoint(folder: Path) -> dict[str, Any] | None:
    """The last complete checkpoint in ``folder``, or None.

    Loaded with ``weights_only=True``: tensors and plain values only, so a copied
    or crafted run folder cannot run code through pickle.
    """
    path = Path(folder) / CHECKPOINT_NAME
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
        raise CheckpointError(
            f"{path}: refused to load (not a plain evosweep checkpoint: {first_line(error)}). "
            "Delete the file or start in a new folder (hydra.run.dir=...)"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not an evosweep checkpoint (a {type(state).__name__}, not a dict)")
    return state


def _config_differences(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    keys = (set(stored) | set(current)) - set(RESUME_FREE_KEYS)
    return sorted(key for key in keys if stored.get(key) != current.get(key))


def resumable_checkpoint(folder: Path, params: dict[str, Any], resume: bool) -> dict[str, Any] | None:
    """The checkpoint in ``folder`` if this run (flat config ``params``) should continue it.

    A checkpoint written by the same config is continued whether or not
    ``resume`` is set (rerunning the same command resumes). One written by
    another config is never overwritten: the run stops with one line naming
    what differs.
    """
    checkpoint = load_checkpoint(folder)
    if checkpoint is None:
        if resume:
            log.info("resume=true but %s holds no checkpoint: starting a new run", folder)
        return None
    stored = checkpoint.get("config")
    if stored is None:
        return checkpoint if resume else None
    differences = _config_differences(stored, params)
    if not differences:
        return checkpoint
    listed = ", ".join(differences[:6]) + (", ..." if len(differences) > 6 else "")
    raise ConfigError(
        "resume" if resume else "hydra.run.dir",
        f"the checkpoint in {folder} was written by another config (differs in {listed}); "
        "repeat the original overrides to resume it, or use a new hydra.run.dir (delete the folder "
        "to start over there)",
    )
