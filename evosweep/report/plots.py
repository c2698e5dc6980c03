"""Fitness curves as PNG (matplotlib, no display needed): one run's, and per configuration."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

if TYPE_CHECKING:
    from evosweep.report.table import Configuration


def _finish_axis(axis, title: str, fontsize: int | None = None) -> None:
    axis.set_xlabel("generation")
    axis.set_ylabel("reward")
    axis.set_title(title, fontsize=fontsize)
    axis.grid(alpha=0.3)


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path)
    plt.close(figure)
    return path


def plot_fitness_curve(history: list[dict[str, float]], path: Path, title: str) -> Path:
    """Best and mean (with std band) train fitness and held-out best, per generation."""
    generations = [row["generation"] for row in history]
    best = [row["fitness/best"] for row in history]
    mean = [row["fitness/mean"] for row in history]
    std = [row["fitness/std"] for row in history]
    checked = [row for row in history if "heldout/best" in row]  # eval.heldout_every
    checked_generations = [row["generation"] for row in checked]
    heldout = [row["heldout/best"] for row in checked]
    exact = [row["heldout/exact"] for row in checked if row.get("heldout/exact") is not None]
    panels = 2 if checked and len(exact) == len(checked) else 1
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
    _finish_axis(axis, title)
    axis.legend(loc="lower right", fontsize=8)
    if panels == 2:
        axis = axes[0][1]
        axis.plot(checked_generations, [100 * value for value in exact], color="tab:green", linewidth=2,
                  marker="o", markersize=3)
        _finish_axis(axis, "held-out answers exactly right (best member)")
        axis.set_ylabel("% exact")
        axis.set_ylim(-2, 102)
    return _save(figure, path)


def seed_band(curves: list[dict[int, float]]) -> tuple[list[int], list[float], list[float], list[float]]:
    """Per step: mean, min and max over the curves that reached it."""
    steps = sorted({step for curve in curves for step in curve})
    means, lows, highs = [], [], []
    for step in steps:
        values = [curve[step] for curve in curves if step in curve]
        means.append(sum(values) / len(values))
        lows.append(min(values))
        highs.append(max(values))
    return steps, means, lows, highs


def plot_curves(configurations: list[Configuration], path: Path, title: str) -> Path:
    """Train ``fitness/best`` and ``heldout/best`` per generation, one colour per configuration."""
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.6), dpi=110, sharex=True)
    panels = (("best_curve", "train fitness/best"), ("heldout_curve", "heldout/best (best member)"))
    colours = plt.get_cmap("tab10")
    for index, config in enumerate(configurations):
        colour = colours(index % 10)
        for axis, (attribute, _) in zip(axes, panels, strict=True):
            curves = [getattr(run, attribute) for run in config.complete if getattr(run, attribute)]
            if not curves:
                continue
            steps, means, lows, highs = seed_band(curves)
            axis.plot(steps, means, color=colour, linewidth=2, label=f"{config.label} (n={len(curves)})")
            axis.fill_between(steps, lows, highs, color=colour, alpha=0.18)
    for axis, (_, name) in zip(axes, panels, strict=True):
        _finish_axis(axis, f"{name}: mean over seeds, band = min-max", fontsize=9)
    axes[0].legend(loc="lower right", fontsize=7)
    figure.suptitle(title)
    return _save(figure, path)
