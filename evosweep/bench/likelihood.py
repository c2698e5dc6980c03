"""``python -m evosweep.bench --likelihood``: the teacher-forced likelihood pass, layout by layout.

Times the evaluator's likelihood scoring (the default reward) of one P x N grid
for several LoRA layouts and weight dtypes side by side: ``all`` adapts every
decoder layer (every member runs the whole model), ``K`` adapts the top K layers,
whose frozen bottom then runs once for all members (``eval.share_bottom``);
``--dtypes float32 auto`` times each layout in float32 and in what ``model.dtype=auto``
picks; ``--levers int8 compile`` adds each layout with that speed lever
(:mod:`evosweep.bench.levers`) in the first dtype. Each contender gets its own module
tree (over the same weights where the dtype is the loaded one); rounds alternate their
order. Reports evaluations per wall second and per CPU second of this process, the
warm-up's seconds (a compile happens there) and the mean score the contender gives the
same members, so a lever that is fast but scores differently shows it.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from dataclasses import dataclass, replace

import torch

from evosweep.bench.levers import LEVERS, apply_lever
from evosweep.bench.methods import shared_copy
from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.models.device import synchronize
from evosweep.models.loading import LoadedModel
from evosweep.models.precision import resolve_dtype
from evosweep.rewards.likelihood import LikelihoodReward
from evosweep.settings.evaluation import EvalSettings
from evosweep.settings.model import DTYPES
from evosweep.tasks.pairs import Pair

ALL_LAYERS = "all"
PLAIN = "none"  # the contender without a lever


@dataclass
class LayoutTiming:
    """One layout's rounds (in one dtype, with one lever): wall and CPU seconds per evaluation."""

    layout: str
    dtype: str
    adapted_layers: int
    dim: int
    wall: list[float]
    cpu: list[float]
    lever: str = PLAIN
    warmup_s: float = 0.0
    mean_score: float = float("nan")  # mean over members and prompts, last round

    @property
    def evals_per_s(self) -> float:
        return 1 / min(self.wall)

    @property
    def evals_per_cpu_s(self) -> float:
        return 1 / min(self.cpu)


def layout_for(loaded: LoadedModel, layers: str,
               dtype: torch.dtype | None = None) -> tuple[LoadedModel, LoraLayout]:
    """A module tree with LoRA on ``layers`` (``all`` or the top K), in ``dtype``.

    Over ``loaded``'s own weights when ``dtype`` is theirs (or None), else over a converted copy.
    """
    lora = replace(loaded.settings.lora, layers=None if layers == ALL_LAYERS else int(layers))
    weights = next(loaded.model.parameters()).dtype
    model = (shared_copy(loaded.model) if dtype in (None, weights)
             else torch.nn.Module.to(copy.deepcopy(loaded.model), dtype))
    contender = replace(loaded, model=model, settings=replace(loaded.settings, lora=lora))
    return contender, LoraLayout.from_model(model, lora)


def time_layouts(loaded: LoadedModel, layouts: list[str], population: int, pairs: list[Pair],
                 settings: EvalSettings, repeats: int, seed: int = 0,
                 dtypes: list[str] | None = None, levers: list[str] | None = None) -> list[LayoutTiming]:
    """Warm up each layout (in each of ``dtypes``; default: the loaded one; then with each of
    ``levers`` in the first dtype) once, then ``repeats`` rounds in alternating order."""
    device = str(next(loaded.model.parameters()).device)
    loaded_dtype = str(next(loaded.model.parameters()).dtype).removeprefix("torch.")
    dtype_names = dtypes or [loaded_dtype]
    scorers, timings = {}, {}
    names = [(layers, dtype, PLAIN) for dtype in dtype_names for layers in layouts]
    names += [(layers, dtype_names[0], lever) for lever in levers or [] for layers in layouts]
    for layers, dtype_name, lever in names:
        dtype = resolve_dtype(dtype_name, device)
        contender, layout = layout_for(loaded, layers, dtype)
        generator = torch.Generator().manual_seed(seed)
        members = layout.initial_member(generator) + 0.02 * torch.randn(population, layout.dim,
                                                                         generator=generator)
        evaluator = PopulationEvaluator(contender, BatchedLora(contender.model, layout),
                                        LikelihoodReward(append_eos=True), settings)
        if lever != PLAIN:
            apply_lever(contender.model, lever)
        scorers[layers, dtype_name, lever] = (evaluator, members)
        adapted = len({slot.layer for slot in layout.slots})
        label = str(dtype).removeprefix("torch.") + (" (auto)" if dtype_name == "auto" else "")
        started = time.perf_counter()
        evaluator.evaluate(members, pairs[:1])  # warm-up (a compile happens here)
        timings[layers, dtype_name, lever] = LayoutTiming(layers, label, adapted, layout.dim, [], [], lever,
                                                          time.perf_counter() - started)
    evals = population * len(pairs)
    for round_index in range(repeats):
        for name in names if round_index % 2 == 0 else names[::-1]:
            evaluator, members = scorers[name]
            synchronize()
            wall, cpu = time.perf_counter(), time.process_time()
            scores = evaluator.evaluate(members, pairs).scores
            synchronize()
            timings[name].wall.append((time.perf_counter() - wall) / evals)
            timings[name].cpu.append((time.process_time() - cpu) / evals)
            timings[name].mean_score = float(scores.float().mean())
    return [timings[name] for name in names]


def format_layouts(timings: list[LayoutTiming]) -> str:
    """One line per layout, dtype and lever: evals/s and evals per CPU second (best round),
    x the first line, the warm-up's seconds and the mean score."""
    first = timings[0]
    lines = [f"{'layers':<8}{'dtype':<17}{'lever':<9}{'adapted':>8}{'D':>9}{'evals/s':>10}{'evals/cpu-s':>13}"
             f"{'x first':>9}{'warm-up s':>11}{'mean score':>12}   rounds (evals/s)"]
    for timing in timings:
        ratio = statistics.median(a / b for a, b in zip(first.wall, timing.wall, strict=True))
        rounds = " ".join(f"{1 / seconds:.1f}" for seconds in timing.wall)
        lines.append(f"{timing.layout:<8}{timing.dtype:<17}{timing.lever:<9}{timing.adapted_layers:>8}"
                     f"{timing.dim:>9}{timing.evals_per_s:>10.2f}"
                     f"{timing.evals_per_cpu_s:>13.2f}{ratio:>9.2f}{timing.warmup_s:>11.1f}"
                     f"{timing.mean_score:>12.4f}   {rounds}")
    lines.append(f"x first ({first.layout}, {first.dtype}): median of same-round wall-time ratios; "
                 "evals/cpu-s: this process's CPU time; mean score: the reward (log p per token) "
                 "over the same members and prompts")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--likelihood`` mode's flags."""
    parser.add_argument("--likelihood", action="store_true",
                        help="time the teacher-forced likelihood pass per LoRA layout instead of generation")
    parser.add_argument("--layers", nargs="+", default=[ALL_LAYERS, "8"],
                        help="--likelihood: layouts to compare: 'all' and/or top-K layer counts")
    parser.add_argument("--dtypes", nargs="+", choices=DTYPES, default=None,
                        help="--likelihood: weight dtypes to compare, each layout in each "
                             "(e.g. float32 auto; default: the loaded model's)")
    parser.add_argument("--levers", nargs="+", choices=LEVERS, default=None,
                        help="--likelihood: also time each layout with these speed levers "
                             "(int8: dynamic int8 frozen Linears; compile: torch.compile per decoder layer)")
