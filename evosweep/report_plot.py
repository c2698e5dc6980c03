"""Fitness curves per configuration: mean over seeds with a min-max band (PNG, no display)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from evosweep.report_table import Configuration  # noqa: E402


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
        runs = config.complete
        colour = colours(index % 10)
        for axis, (attribute, _) in zip(axes, panels, strict=True):
            curves = [getattr(run, attribute) for run in runs if getattr(run, attribute)]
            if not curves:
                continue
            steps, means, lows, highs = seed_band(curves)
            axis.plot(steps, means, color=colour, linewidth=2, label=f"{config.label} (n={len(curves)})")
            axis.fill_between(steps, lows, highs, color=colour, alpha=0.18)
    for axis, (_, name) in zip(axes, panels, strict=True):
        axis.set_xlabel("generation")
        axis.set_ylabel("reward")
        axis.set_title(f"{name}: mean over seeds, band = min-max", fontsize=9)
        axis.grid(alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path)
    plt.close(figure)
    return path
