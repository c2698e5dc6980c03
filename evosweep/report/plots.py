"""Fitness curves of an experiment as PNG: each configuration's mean over seeds, with a min-max band."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from evosweep.outputs.figures import finish_axis, plt, save_figure

if TYPE_CHECKING:
    from evosweep.report.table import Configuration


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
        finish_axis(axis, f"{name}: mean over seeds, band = min-max", fontsize=9)
    axes[0].legend(loc="lower right", fontsize=7)
    figure.suptitle(title)
    return save_figure(figure, path)
