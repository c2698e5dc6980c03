"""Clicks per unit of progress of reward=human_web's two modes, with a scripted rater.

Not part of evosweep: the script behind the table in docs/rewards.md ("Score or
pairwise?"). For each mode and seed it starts one run of the bundled task
(fr_en, the default model) with ``reward=human_web`` and rates its page with
:mod:`evosweep.rewards.rating.scripted_rater` (chrF to the reference), then
prints the clicks and the held-out chrF before and after::

    OMP_NUM_THREADS=1 .venv/bin/python docs/tools/rating_clicks.py --seeds 0 1 2
    .venv/bin/python docs/tools/rating_clicks.py --table
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
from evosweep.state.checkpoint import load_checkpoint

TOKEN = "scripted-rater"
RUN = ["algorithm=es", "algorithm.population_size=8", "algorithm.generations=8", "task.minibatch=2",
       "eval.max_new_tokens=12", "eval.heldout_every=8", "tracking.experiment=human_web_clicks"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def one_run(mode: str, seed: int, comparisons: int, out: Path) -> dict:
    """Run (or resume) and rate one arm; its clicks (generations only, and all) and held-out chrF."""
    run_dir, port = out / f"{mode}-s{seed}", free_port()
    command = [sys.executable, "-m", "evosweep", *RUN, f"seed={seed}", "reward=human_web",
               f"reward.mode={mode}", f"reward.comparisons={comparisons}", f"reward.port={port}",
               f"reward.token={TOKEN}", f"hydra.run.dir={run_dir}",
               f"tracking.run_name=human_web-{mode}-s{seed}"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rater = threading.Thread(target=rate_until_done,
                             args=(f"http://127.0.0.1:{port}/?token={TOKEN}", None, 3600.0, 10.0,
                                   lambda: process.poll() is None))
    rater.start()
    code = process.wait()
    rater.join()
    if code != 0:
        raise SystemExit(f"{mode} seed {seed}: the run exited with {code}; see {run_dir}")
    # the run's own record of every click (a run stopped and restarted here resumes, clicks kept)
    stages = [json.loads(line)["stage"] for line in (run_dir / "ratings.jsonl").read_text().splitlines()]
    checkpoint = load_checkpoint(run_dir)
    return {"mode": mode, "seed": seed, "generation_clicks": sum(s.startswith("generation") for s in stages),
            "all_clicks": len(stages), "chrf_base": checkpoint["base"]["heldout/base_chrf"],
            "chrf_final": checkpoint["history"][-1]["heldout/chrf"]}


def table(results: Path) -> str:
    """The Markdown table of ``results.jsonl`` (the last row of each mode and seed)."""
    rows = {}
    for line in results.read_text().splitlines():
        row = json.loads(line)
        rows[(row["mode"], row["seed"])] = row
    lines = ["| mode | seed | clicks in generations | all clicks (with held-out checks) "
             "| held-out chrF (base -> final) | chrF gained per 100 generation clicks |",
             "|---|---|---|---|---|---|"]
    for (mode, seed), row in sorted(rows.items(), key=lambda item: (item[0][0] != "score", item[0][1])):
        gain = row["chrf_final"] - row["chrf_base"]
        lines.append(f"| {mode} | {seed} | {row['generation_clicks']} | {row['all_clicks']} | "
                     f"{row['chrf_base']:.3f} -> {row['chrf_final']:.3f} | "
                     f"{100 * gain / max(row['generation_clicks'], 1):+.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--comparisons", type=int, default=8, help="pairwise: pairs per generation")
    parser.add_argument("--out", type=Path, default=Path("outputs/human_web_clicks"))
    parser.add_argument("--table", action="store_true", help="only print the table of the results so far")
    args = parser.parse_args()
    if args.table:
        print(table(args.out / "results.jsonl"))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for mode in ("score", "pairwise"):
            row = one_run(mode, seed, args.comparisons, args.out)
            print(json.dumps(row), flush=True)
            with (args.out / "results.jsonl").open("a") as results:
                results.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
