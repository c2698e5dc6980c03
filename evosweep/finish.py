"""The end of a run: save the best adapter, plot, compare answers before/after, write the summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evosweep.evaluation.heldout import check_heldout
from evosweep.report.plots import plot_fitness_curve
from evosweep.report.summary import sample_table, summary_table


def finish_run(settings: Any, output_dir: Path, parts: Any, history: list[dict[str, float]],
               base: dict[str, float], tracker: Any) -> float:
    """Record the final best (``parts``: a RunParts); print and log the summary; return the objective."""
    task, algorithm = parts.task, parts.algorithm
    best = algorithm.best_member()
    final = check_heldout(parts.evaluator, best, task.heldout, parts.instruction)
    tracker.log_metrics({"heldout/final": final.reward, "heldout/final_exact": final.exact,
                         "heldout/final_answer_words": final.answer_words}, step=len(history))
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
    before = check_heldout(parts.evaluator, parts.initial_member, task.heldout).answers
    samples = sample_table([p.prompt for p in task.heldout], [p.reference for p in task.heldout],
                           before, final.answers)
    population = getattr(settings.algorithm, "population_size", "-")
    rows = [
        ("task / reward", f"{task.name} / {type(settings.reward).__name__}"),
        ("algorithm", f"{settings.algorithm.name}, P={population}, {len(history)} generations"),
        ("train best (first -> last gen)",
         f"{history[0]['fitness/best']:.4f} -> {history[-1]['fitness/best']:.4f}" if history else "-"),
        ("held-out reward (base -> final best)",
         f"{base['heldout/base']:.4f} -> {final.reward:.4f} ({final.reward - base['heldout/base']:+.4f})"),
        ("held-out exact answers (base -> final)",
         f"{base['heldout/base_exact']:.0%} -> {final.exact:.0%} of {len(task.heldout)}"),
        ("held-out words per answer (base -> final)",
         f"{base['heldout/base_answer_words']:.1f} -> {final.answer_words:.1f}"),
        ("reward evals", f"{sum(row['perf/reward_evals'] for row in history):.0f}"),
        *([("best prompt", repr(parts.instruction))] if parts.instruction is not None else []),
        ("adapter", str(adapter_dir)),
    ]
    text = f"{summary_table(rows)}\n\nHeld-out answers (greedy):\n\n{samples}\n"
    (output_dir / "summary.md").write_text(text)
    tracker.log_artifact(output_dir / "summary.md", "summary")
    print("\n" + text, flush=True)
    return final.reward
