"""The end of a run: save the best adapter, plot, compare answers before/after, write the summary."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from evosweep.assemble import RunParts
from evosweep.evaluation.heldout import CheckedMember, check_or_reuse
from evosweep.evaluation.transfer import TRANSFER_EXACT, transfer_measures
from evosweep.outputs.fitness_curve import plot_fitness_curve
from evosweep.outputs.summary import sample_table, summary_table
from evosweep.settings.build import RunSettings
from evosweep.tasks.measures import TaskMeasures
from evosweep.tracking.mlflow_tracker import NullTracker


def measure_rows(base: dict[str, float], measures: dict[str, float],
                 labels: TaskMeasures) -> list[tuple[str, str]]:
    """Summary rows ``base -> final`` for each measure the task logged, as ``labels`` names them."""
    rows = []
    for name, value in measures.items():
        label = labels.label(name)
        before = base.get(f"heldout/base_{name}")
        start = "-" if before is None else label.style.format(before)
        rows.append((f"{label.summary} (base -> final)", f"{start} -> {label.style.format(value)}"))
    return rows


def transfer_row(base: dict[str, float], measures: dict[str, float], size: int) -> list[tuple[str, str]]:
    """The second held-out set's summary row (``task.transfer_path``), none without the set."""
    if TRANSFER_EXACT not in measures:
        return []
    before = base.get(f"heldout/base_{TRANSFER_EXACT}")
    start = "-" if before is None else f"{before:.0%}"
    return [("second held-out set exact (base -> final)",
             f"{start} -> {measures[TRANSFER_EXACT]:.0%} of {size} (task.transfer_path)")]


def model_row(parts: RunParts) -> str:
    """The base model and the dtype its frozen weights run in (``model.dtype=auto`` picks
    bfloat16 on a CPU or GPU that computes it natively, and the numbers differ from float32's)."""
    model = parts.loaded.settings
    dtype = str(parts.loaded.model.dtype).removeprefix("torch.")
    return f"{model.name_or_path}, {dtype} (model.dtype={model.dtype})"


def finish_run(settings: RunSettings, output_dir: Path, parts: RunParts, history: list[dict[str, float]],
               base: dict[str, float], tracker: NullTracker, base_answers: list[str] | None = None,
               last_check: CheckedMember | None = None) -> float:
    """Record the final best; print and log the summary; return the objective.

    ``base_answers``: the base model's greedy held-out answers from the run's start (None:
    generate them again). ``last_check``: the last generation's held-out check, reused when it
    checked the final best (the same numbers without a second pass)."""
    task, algorithm = parts.task, parts.algorithm
    best = algorithm.best_member()
    final = check_or_reuse(parts.evaluator, best, task, parts.instruction, last_check)
    final = replace(final, measures={**final.measures,
                                     **transfer_measures(parts.evaluator, best, task, parts.instruction)})
    final_metrics = final.metrics("heldout/final_")
    final_metrics["heldout/final"] = final_metrics.pop("heldout/final_best")
    tracker.log_metrics(final_metrics, step=len(history))
    adapter_dir = parts.layout.save_adapter(best, output_dir / "adapters" / "best",
                                            settings.model.name_or_path)
    if parts.instruction is not None:  # the best (adapter, prompt) pair is saved together
        (adapter_dir / "prompt.txt").write_text(parts.instruction + "\n")
        tracker.set_tags({"prompts.best": parts.instruction[:5000]})
    tracker.log_artifact(adapter_dir, "adapters/best")
    if history:
        plot = plot_fitness_curve(history, output_dir / "fitness_curve.png",
                                  f"{settings.algorithm.name} on {task.name}")
        tracker.log_artifact(plot, "plots")
    before = base_answers
    if before is None:
        before = parts.evaluator.greedy_answers(parts.initial_member, task.heldout)
    samples = sample_table([p.prompt for p in task.heldout], [p.reference for p in task.heldout],
                           before, final.answers)
    population = settings.algorithm.population_size
    rows = [
        ("task / reward", f"{task.name} / {type(settings.reward).__name__}"),
        ("model", model_row(parts)),
        ("algorithm", f"{settings.algorithm.name}, P={population}, {len(history)} generations"),
        ("train best (first -> last gen)",
         f"{history[0]['fitness/best']:.4f} -> {history[-1]['fitness/best']:.4f}" if history else "-"),
        ("held-out reward (base -> final best)",
         f"{base['heldout/base']:.4f} -> {final.reward:.4f} ({final.reward - base['heldout/base']:+.4f})"),
        ("held-out exact answers (base -> final)",
         f"{base['heldout/base_exact']:.0%} -> {final.exact:.0%} of {len(task.heldout)}"),
        ("held-out words per answer (base -> final)",
         f"{base['heldout/base_answer_words']:.1f} -> {final.answer_words:.1f}"),
        *transfer_row(base, final.measures, len(task.transfer)),
        *measure_rows(base, {k: v for k, v in final.measures.items() if k != TRANSFER_EXACT}, task.measures),
        ("reward evals", f"{sum(row['perf/reward_evals'] for row in history):.0f}"),
        *([("best prompt", repr(parts.instruction))] if parts.instruction is not None else []),
        ("adapter", str(adapter_dir)),
    ]
    text = f"{summary_table(rows)}\n\nHeld-out answers (greedy):\n\n{samples}\n"
    (output_dir / "summary.md").write_text(text)
    tracker.log_artifact(output_dir / "summary.md", "summary")
    print("\n" + text, flush=True)
    return final.reward
