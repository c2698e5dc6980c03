"""``python -m evosweep.bench`` (``make bench``): how fast a population is evaluated.

Times, on one grid of P members x N prompts (the bundled fr_en prompts, cycled),
the original design's loop, evosweep's batched evaluation, plain batched
generation of the base model (the ceiling) and peft's mixed-adapter batch; see
:mod:`evosweep.bench.methods`. Methods run interleaved, in alternating order,
``--repeats`` rounds after one short warm-up; evals/s comes from each method's
best round and "x plain" is the median of same-round ratios. ``--scaling``
instead times batched vs plain for several population sizes; ``--likelihood``
times the likelihood reward's pass per LoRA layout (:mod:`evosweep.bench.likelihood`).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch

from evosweep.bench.likelihood import add_arguments, format_layouts, time_layouts
from evosweep.bench.methods import METHODS, Contenders
from evosweep.errors import ConfigError
from evosweep.lora.layout import LoraLayout
from evosweep.models.device import resolve_device, synchronize
from evosweep.models.loading import load_model
from evosweep.settings.evaluation import EvalSettings
from evosweep.settings.model import DTYPES, ModelSettings
from evosweep.settings.model_conf import model_settings
from evosweep.tasks.pairs import Pair, load_jsonl

PROMPTS = "builtin:fr_en_train.jsonl"
MUTATION_SCALE = 0.02  # members = peft's initial adapter + the GA's default mutation noise


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m evosweep.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m",
                        help="a conf/model name (smollm2-135m, tiny-llama, tiny-gpt2, gpt2) or a yaml path")
    parser.add_argument("--population", type=int, default=8, help="P members")
    parser.add_argument("--prompts", type=int, default=8, help="N prompts per member")
    parser.add_argument("--new-tokens", type=int, default=20, help="tokens generated per row")
    parser.add_argument("--batch-size", type=int, default=EvalSettings.batch_size,
                        help="rows per pass (eval.batch_size), the same for batched, plain and peft_mixed")
    parser.add_argument("--share-prefix", action=argparse.BooleanOptionalAction, default=True,
                        help="batched: prefill the prompts' common head once per member")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds per method")
    parser.add_argument("--seed-loop-members", type=int, default=1,
                        help="members the slow seed loop times; its per-eval rate is extrapolated")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset to time")
    parser.add_argument("--scaling", type=int, nargs="+", metavar="P",
                        help="time batched vs plain for each population size P instead")
    parser.add_argument("--workers", type=int, nargs="+", metavar="W",
                        help="time one generation on W Ray workers (eval.workers) for each W instead")
    parser.add_argument("--gpus-per-worker", type=float, default=0.0,
                        help="--workers: GPUs each worker reserves (eval.gpus_per_worker); 1 = one per GPU")
    parser.add_argument("--reward", default="exact_match",
                        help="--workers: the conf/reward the workers score with (default: generated answers)")
    add_arguments(parser)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto (as device=)")
    parser.add_argument("--dtype", choices=DTYPES, help="the model's weights (default: the model config's)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    unknown = set(args.methods.split(",")) - set(METHODS)
    if unknown:
        parser.error(f"unknown method(s) {sorted(unknown)}; choose from {', '.join(METHODS)}")
    try:
        args.device = resolve_device(args.device)
    except ConfigError as error:
        parser.error(str(error).replace("device:", "--device:", 1))
    return args


def bench_population(layout: LoraLayout, size: int, seed: int = 0) -> torch.Tensor:
    """``size`` distinct members: ``(P, D)``."""
    generator = torch.Generator().manual_seed(seed)
    start = layout.initial_member(generator)
    return start + MUTATION_SCALE * torch.randn(size, layout.dim, generator=generator)


def bench_pairs(count: int) -> list[Pair]:
    """``count`` prompts from the bundled fr_en task, cycled when more are asked for."""
    pairs = load_jsonl(PROMPTS)
    return [pairs[index % len(pairs)] for index in range(count)]


def time_rounds(runs: dict[str, Callable[[], int]], repeats: int) -> dict[str, list[float]]:
    """Seconds per evaluation of each run, per round; the order alternates between rounds.

    Each round waits for the accelerator's queued work (:func:`synchronize`) before and after.
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    order = list(runs)
    for round_index in range(repeats):
        for name in order if round_index % 2 == 0 else order[::-1]:
            synchronize()
            start = time.perf_counter()
            evals = runs[name]()
            synchronize()
            times[name].append((time.perf_counter() - start) / evals)
    return times


def same_round_ratio(times: dict[str, list[float]], name: str, reference: str) -> float | None:
    """Median over rounds of ``reference``'s time / ``name``'s time (> 1: ``name`` is faster)."""
    if name not in times or reference not in times:
        return None
    return statistics.median(ref / own for ref, own in zip(times[reference], times[name], strict=True))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _header(args: argparse.Namespace) -> str:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    sizes = ",".join(map(str, args.scaling)) if args.scaling else args.population
    return (f"evosweep bench: model={args.model} device={args.device} dtype={args.dtype or 'config'} "
            f"P={sizes} N={args.prompts} "
            f"new_tokens={args.new_tokens} batch_size={args.batch_size} share_prefix={args.share_prefix} "
            f"repeats={args.repeats} "
            f"threads={torch.get_num_threads()} cpus={os.cpu_count()} load avg {load}")


def format_table(times: dict[str, list[float]], args: argparse.Namespace) -> str:
    """One line per method: evals/s (best round), x plain, x seed loop, every round's evals/s."""
    best = {name: min(values) for name, values in times.items()}
    lines = [f"{'method':<12}{'evals/s':>9}{'x plain':>9}{'x seed loop':>13}   rounds (evals/s)"]
    for name in METHODS:
        if name not in best:
            continue
        vs_plain = same_round_ratio(times, name, "plain")
        vs_seed = best["seed_loop"] / best[name] if "seed_loop" in best else None
        label = name + ("*" if name == "seed_loop" else "")
        rounds = " ".join(f"{1 / seconds:.2f}" for seconds in times[name])
        lines.append(f"{label:<12}{1 / best[name]:>9.2f}{_fmt(vs_plain):>9}{_fmt(vs_seed):>13}   {rounds}")
    if "seed_loop" in best:
        timed = min(args.seed_loop_members, args.population)
        lines.append(f"* seed_loop: {timed} of {args.population} members timed ({timed * args.prompts} "
                     "evals per round), its rate per eval stands for the whole grid")
    lines.append("evals/s: best round; x plain: median of same-round ratios; x seed loop: best vs best")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def run_grid(contenders: Contenders, args: argparse.Namespace, methods: list[str]) -> dict[str, list[float]]:
    """Warm up once (2 tokens, seed loop on one prompt), then time ``args.repeats`` rounds."""
    runs: dict[str, Callable[[int], int]] = {
        "seed_loop": lambda tokens: contenders.seed_loop(tokens, args.seed_loop_members),
        "batched": contenders.batched,
        "plain": contenders.plain,
        "peft_mixed": contenders.peft_mixed,
    }
    for name in methods:  # warm-up
        if name == "seed_loop":
            contenders.seed_loop(2, members=1, prompts=1)
        else:
            runs[name](2)
    timed: dict[str, Callable[[], int]] = {name: functools.partial(runs[name], args.new_tokens)
                                           for name in methods}
    return time_rounds(timed, args.repeats)


def run_scaling(contenders: Contenders, layout: LoraLayout, args: argparse.Namespace) -> list[dict]:
    """Batched vs plain seconds per generation (P x N evals) for each P of ``args.scaling``."""
    rows = []
    for size in args.scaling:
        contenders.population = bench_population(layout, size)
        contenders.batched(2)  # warm-up
        contenders.plain(2)
        times = time_rounds({"batched": lambda: contenders.batched(args.new_tokens),
                             "plain": lambda: contenders.plain(args.new_tokens)}, args.repeats)
        evals = size * args.prompts
        row = {"population": size, "batched_s": min(times["batched"]) * evals,
               "plain_s": min(times["plain"]) * evals,
               "batched_vs_plain": same_round_ratio(times, "batched", "plain")}
        print(f"P={size:<4} rows={evals:<5} batched {row['batched_s']:7.2f} s  "
              f"plain {row['plain_s']:7.2f} s  batched/plain speed {row['batched_vs_plain']:.3f}", flush=True)
        rows.append(row)
    return rows


def _main_workers(args: argparse.Namespace, settings: ModelSettings, loaded, layout: LoraLayout) -> int:
    """``--workers W...``: evals/s and shipping overhead per worker count (see ``bench.workers``)."""
    from evosweep.bench.workers import header, run_workers

    print(header(args, layout.dim), flush=True)
    rows = run_workers(args, settings, loaded, bench_population(layout, args.population),
                       bench_pairs(args.prompts))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"workers": [
            {"workers": row.workers, "evals_per_s": row.evals_per_s, "generation_s": row.generation_s,
             "compute_s": row.compute_s, "overhead_s": row.overhead_s, "megabytes_sent": row.megabytes_sent}
            for row in rows]}, indent=2) + "\n")
    return 0


def _main_likelihood(args: argparse.Namespace, loaded, load_rss: float) -> int:
    """``--likelihood``: evals/s of the likelihood pass for each layout of ``--layers``."""
    print(_header(args) + f" likelihood layers={','.join(args.layers)}"
          f" dtypes={','.join(args.dtypes or ['loaded'])} levers={','.join(args.levers or ['none'])}",
          flush=True)
    settings = EvalSettings(batch_size=args.batch_size, share_prompt_prefix=args.share_prefix)
    timings = time_layouts(loaded, args.layers, args.population, bench_pairs(args.prompts), settings,
                           args.repeats, dtypes=args.dtypes, levers=args.levers)
    print(format_layouts(timings))
    print(f"peak RSS {peak_rss_mb():.0f} MB (after loading the model: {load_rss:.0f} MB)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"likelihood": [
            {"layers": t.layout, "dtype": t.dtype, "lever": t.lever, "adapted_layers": t.adapted_layers,
             "dim": t.dim, "evals_per_s": t.evals_per_s, "evals_per_cpu_s": t.evals_per_cpu_s,
             "warmup_s": t.warmup_s, "mean_score": t.mean_score} for t in timings],
            "grid": {"model": args.model, "device": args.device, "dtype": args.dtype,
                     "population": args.population, "prompts": args.prompts,
                     "batch_size": args.batch_size, "threads": torch.get_num_threads()}}, indent=2) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")  # raised inside peft
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = model_settings(args.model)
    if args.dtype:
        settings = replace(settings, dtype=args.dtype)
    loaded = load_model(settings, args.device)
    load_rss = peak_rss_mb()
    layout = LoraLayout.from_model(loaded.model, settings.lora)
    if args.workers:
        return _main_workers(args, settings, loaded, layout)
    if args.likelihood:
        return _main_likelihood(args, loaded, load_rss)
    methods = ["batched", "plain"] if args.scaling else args.methods.split(",")
    population = bench_population(layout, max(args.scaling or [args.population]))
    eval_settings = EvalSettings(batch_size=args.batch_size, max_new_tokens=args.new_tokens,
                                 share_prompt_prefix=args.share_prefix)
    contenders = Contenders(loaded, layout, population, bench_pairs(args.prompts), eval_settings,
                            tuple(methods))
    print(_header(args), flush=True)
    grid = {"model": args.model, "device": args.device, "dtype": args.dtype,
            "population": args.population, "prompts": args.prompts,
            "new_tokens": args.new_tokens, "batch_size": args.batch_size,
            "share_prefix": args.share_prefix, "repeats": args.repeats,
            "seed_loop_members": min(args.seed_loop_members, args.population),
            "threads": torch.get_num_threads()}
    if args.scaling:
        result: dict = {"scaling": run_scaling(contenders, layout, args)}
        grid["population"] = args.scaling
    else:
        times = run_grid(contenders, args, methods)
        print(format_table(times, args))
        result = {name: {"evals_per_s": 1 / min(times[name]) if name in times else None}
                  for name in METHODS}
    result["peak_rss_mb"] = peak_rss_mb()
    result["grid"] = grid
    print(f"peak RSS {result['peak_rss_mb']:.0f} MB (after loading the model: {load_rss:.0f} MB)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0
