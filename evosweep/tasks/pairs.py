"""Tasks: (prompt, reference) pairs split into train and held-out.

Sources: JSONL files (one ``{"prompt": ..., "reference": ...}`` object a line),
files bundled with evosweep (``builtin:NAME.jsonl``), pairs written inline
in the task config, or a generator (a ``_target_`` returning (train, held-out)).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from evosweep.errors import TaskFileError
from evosweep.settings.task import TaskSettings

BUILTIN_PREFIX = "builtin:"
DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Pair:
    """One prompt and the reference answer the reward compares against.

    ``demonstration``: a worked answer to learn from when the reference is something a
    verifier reads rather than text to imitate (Countdown's reference is the problem as
    JSON; its demonstration is ``<answer>solution</answer>``). Teacher-forced rewards
    (``reward=likelihood``) and ``algorithm=sft`` use :attr:`target`.
    """

    prompt: str
    reference: str
    demonstration: str | None = None

    @property
    def target(self) -> str:
        """The text to teacher-force: the demonstration if there is one, else the reference."""
        return self.reference if self.demonstration is None else self.demonstration


@dataclass
class Task:
    """A named task with a train split (fitness) and a held-out split (reporting)."""

    name: str
    train: list[Pair]
    heldout: list[Pair]


def resolve_path(path: str) -> Path:
    """``builtin:NAME`` -> the file bundled in evosweep/tasks/data; else the path as given."""
    if path.startswith(BUILTIN_PREFIX):
        return DATA_DIR / path[len(BUILTIN_PREFIX):]
    return Path(path).expanduser()


def _pair_from(obj: object, where: str) -> Pair:
    if not isinstance(obj, dict):
        raise TaskFileError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    missing = [key for key in ("prompt", "reference") if key not in obj]
    if missing:
        raise TaskFileError(f"{where}: missing key(s) {', '.join(missing)}")
    if not isinstance(obj["prompt"], str) or not isinstance(obj["reference"], str):
        raise TaskFileError(f"{where}: 'prompt' and 'reference' must be strings")
    return Pair(obj["prompt"], obj["reference"])


def load_jsonl(path: str | Path) -> list[Pair]:
    """Read pairs from a JSONL file; blank lines are skipped, bad lines name file:line."""
    path = resolve_path(str(path))
    if not path.is_file():
        raise TaskFileError(f"{path}: task file not found")
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as error:
                raise TaskFileError(f"{path}:{number}: invalid JSON ({error.msg})") from None
            pairs.append(_pair_from(obj, f"{path}:{number}"))
    if not pairs:
        raise TaskFileError(f"{path}: no pairs in file")
    return pairs


def _inline(pairs: list[dict], field_name: str) -> list[Pair]:
    return [_pair_from(dict(obj), f"{field_name}[{i}]") for i, obj in enumerate(pairs)]


def load_task(settings: TaskSettings) -> Task:
    """Load train and held-out pairs; with no held-out source, held-out = train."""
    if settings.generator is not None:
        from evosweep.settings.instantiate import build

        train, heldout = build("task.generator", settings.generator)
    else:
        if settings.train_path is not None:
            train = load_jsonl(settings.train_path)
        else:
            train = _inline(settings.train_pairs, "task.train_pairs")
        if settings.eval_path is not None:
            heldout = load_jsonl(settings.eval_path)
        else:
            heldout = _inline(settings.eval_pairs, "task.eval_pairs")
    heldout = heldout or list(train)
    return Task(
        name=settings.name,
        train=train[: settings.max_train],
        heldout=heldout[: settings.max_eval],
    )
