"""Clicks per unit of progress of reward=human_web's two modes, with a scripted rater.

Not part of evosweep: the script behind the table in docs/rewards.md ("Score or
pairwise?"). For each mode and seed it starts one run of the bundled task
(fr_en, the default model) with ``reward=human_web`` and rates its page with
:mod:`evosweep.rewards.rating.scripted_rater` (chrF to the reference), then
prints the clicks and the held-out chrF before and after::

    OMP_NUM_THREADS=2 .venv/bin/python docs/tools/rating_clicks.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

from evosweep.rewards.rating.scripted_rater import rate_until_done
from evosweep.tracking.checkpoint import load_checkpoint

TOKEN = "scripted-rater"
RUN = ["algorithm=es", "algorithm.population_size=8", "algorithm.generations=8", "task.minibatch=2",
       "eval.max_new_tokens=12", "eval.heldout_every=8", "tracking.experiment=human_web_clicks"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def one_run(mode: str, seed: int, comparisons: int, out: Path) -> dict:
    """Run and rate one arm; its clicks (generations only, and all) and held-out chrF."""
    run_dir, port = out / f"{mode}-s{seed}", free_port()
    command = [sys.executable, "-m", "evosweep", *RUN, f"seed={seed}", "reward=human_web",
               f"reward.mode={mode}", f"reward.comparisons={comparisons}", f"reward.port={port}",
               f"reward.token={TOKEN}", f"hydra.run.dir={run_dir}",
               f"tracking.run_name=human_web-{mode}-s{seed}"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    clicks_log = run_dir.parent / f"{mode}-s{seed}.clicks.jsonl"
    clicks_log.unlink(missing_ok=True)
    rater = threading.Thread(target=rate_until_done,
                             args=(f"http://127.0.0.1:{port}/?token={TOKEN}", clicks_log, 3600.0))
    rater.start()
    code = process.wait()
    rater.join()
    if code != 0:
        raise SystemExit(f"{mode} seed {seed}: the run exited with {code}; see {run_dir}")
    stages = [json.loads(line)["stage"] for line in clicks_log.read_text().splitlines()]
    checkpoint = load_checkpoint(run_dir)
    return {"mode": mode, "seed": seed, "generation_clicks": sum(s.startswith("generation") for s in stages),
            "all_clicks": len(stages), "chrf_base": checkpoint["base"]["heldout/base_chrf"],
            "chrf_final": checkpoint["history"][-1]["heldout/chrf"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--comparisons", type=int, default=8, help="pairwise: pairs per generation")
    parser.add_argument("--out", type=Path, default=Path("outputs/human_web_clicks"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for mode in ("score", "pairwise"):
            row = one_run(mode, seed, args.comparisons, args.out)
            print(json.dumps(row), flush=True)
            with (args.out / "results.jsonl").open("a") as results:
                results.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
