"""Time each cheap reward's call on 128 answers: the table of docs/rewards.md#measured-costs.

    OMP_NUM_THREADS=1 .venv/bin/python docs/tools/reward_costs.py

Text rewards score 128 answers of the bundled fr_en pairs (each held-out reference
given as another pair's answer, numbered per call so that no cache answers);
``countdown`` scores 128 generated problems' own solutions. Each reward is built from
its ``conf/reward`` file, called once to warm up (the embedding model loads then), then
timed: best of 5 calls.
Rewards that run the base model or a person (likelihood, reward_model, human,
human_web, composite) are not timed here.
"""

from __future__ import annotations

import time

from omegaconf import OmegaConf

from evosweep.settings.conf_dir import CONF_DIR
from evosweep.settings.instantiate import build
from evosweep.tasks.countdown import countdown_splits
from evosweep.tasks.pairs import load_jsonl

TEXT_REWARDS = ("bleu", "chrf", "rouge", "exact_match", "length", "conciseness", "sentiment", "embedding")
COUNT = 128


def _text_batch() -> tuple[list[str], list[str]]:
    pairs = load_jsonl("builtin:fr_en_train.jsonl") + load_jsonl("builtin:fr_en_heldout.jsonl")
    references = [pairs[index % len(pairs)].reference for index in range(COUNT)]
    return references[1:] + references[:1], references


def _countdown_batch() -> tuple[list[str], list[str]]:
    train, heldout = countdown_splits(seed=0, train_size=COUNT - 32, heldout_size=32)
    pairs = train + heldout
    return [pair.target for pair in pairs], [pair.reference for pair in pairs]


def seconds_per_call(name: str, answers: list[str], references: list[str], calls: int = 5,
                     fresh: bool = True) -> float:
    """Best of ``calls`` timed calls of ``conf/reward/NAME.yaml``'s reward, after one warm-up.

    ``fresh``: every call gets answers it has not seen (a numbered suffix), so that no
    reward's cache of seen texts (the embedding's) answers in its place.
    """
    reward = build("reward", OmegaConf.load(CONF_DIR / "reward" / f"{name}.yaml"))
    reward(answers, references)
    best = float("inf")
    for call in range(calls):
        batch = [f"{answer} ({call})" for answer in answers] if fresh else answers
        start = time.perf_counter()
        reward(batch, references)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    print(f"| reward | time per call on {COUNT} answers (best of 5) |\n|---|---|")
    rows = [(name, *_text_batch(), True) for name in TEXT_REWARDS]
    rows.append(("countdown", *_countdown_batch(), False))
    for name, answers, references, fresh in rows:
        seconds = seconds_per_call(name, answers, references, fresh=fresh)
        print(f"| `{name}` | {seconds * 1000:.1f} ms |", flush=True)


if __name__ == "__main__":
    main()
