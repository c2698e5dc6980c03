"""Fitness curves as PNG (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_fitness_curve(history: list[dict[str, float]], path: Path, title: str) -> Path:
    """Best and mean (with std band) train fitness and held-out best, per generation."""
    generations = [row["generation"] for row in history]
    best = [row["fitness/best"] for row in history]
    mean = [row["fitness/mean"] for row in history]
    std = [row["fitness/std"] for row in history]
    heldout = [row["heldout/best"] for row in history]
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=110)
    axes.plot(generations, best, label="train best", color="tab:blue", linewidth=2)
    axes.plot(generations, mean, label="train mean", color="tab:blue", linestyle="--")
    axes.fill_between(
        generations,
        [m - s for m, s in zip(mean, std, strict=True)],
        [m + s for m, s in zip(mean, std, strict=True)],
        color="tab:blue", alpha=0.15, label="train mean ± std",
    )
    axes.plot(generations, heldout, label="held-out (best member)", color="tab:orange",
              linewidth=2, marker="o", markersize=3)
    axes.set_xlabel("generation")
    axes.set_ylabel("reward")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path)
    plt.close(figure)
    return path
