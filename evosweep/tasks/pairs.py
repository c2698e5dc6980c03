"""(prompt, reference) pairs, read from JSONL files or written inline in the config.

JSONL files hold one ``{"prompt": ..., "reference": ...}`` object a line;
``builtin:NAME.jsonl`` names a file bundled with evosweep. A task splits its pairs
into train and held-out (:mod:`evosweep.tasks.task`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from evosweep.errors import TaskFileError

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


def inline_pairs(pairs: list[dict], field_name: str) -> list[Pair]:
    """Pairs written in the config (``task.train_pairs``), each checked like a JSONL line."""
    return [_pair_from(dict(obj), f"{field_name}[{i}]") for i, obj in enumerate(pairs)]
