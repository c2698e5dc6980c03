"""One run's fitness curve as PNG: train best and mean, held-out best and exact answers per generation."""

from __future__ import annotations

from pathlib import Path

from evosweep.outputs.figures import finish_axis, plt, save_figure


def plot_fitness_curve(history: list[dict[str, float]], path: Path, title: str) -> Path:
    """Best and mean (with std band) train fitness and held-out best, per generation."""
    generations = [row["generation"] for row in history]
    best = [row["fitness/best"] for row in history]
    mean = [row["fitness/mean"] for row in history]
    std = [row["fitness/std"] for row in history]
    checked = [row for row in history if "heldout/best" in row]  # eval.heldout_every
    checked_generations = [row["generation"] for row in checked]
    heldout = [row["heldout/best"] for row in checked]
    exact = [row.get("heldout/exact") for row in checked]
    panels = 2 if checked and all(value is not None for value in exact) else 1
    figure, axes = plt.subplots(1, panels, figsize=(7 * panels, 4.2), dpi=110, squeeze=False)
    axis = axes[0][0]
    axis.plot(generations, best, label="train best", color="tab:blue", linewidth=2)
    axis.plot(generations, mean, label="train mean", color="tab:blue", linestyle="--")
    axis.fill_between(
        generations,
        [m - s for m, s in zip(mean, std, strict=True)],
        [m + s for m, s in zip(mean, std, strict=True)],
        color="tab:blue", alpha=0.15, label="train mean ± std",
    )
    axis.plot(checked_generations, heldout, label="held-out (best member)", color="tab:orange",
              linewidth=2, marker="o", markersize=3)
    finish_axis(axis, title)
    axis.legend(loc="lower right", fontsize=8)
    if panels == 2:
        axis = axes[0][1]
        axis.plot(checked_generations, [100 * value for value in exact], color="tab:green", linewidth=2,
                  marker="o", markersize=3)
        finish_axis(axis, "held-out answers exactly right (best member)")
        axis.set_ylabel("% exact")
        axis.set_ylim(-2, 102)
    return save_figure(figure, path)
