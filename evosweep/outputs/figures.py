"""Matplotlib without a display, and the axis and file conventions every evosweep plot shares."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def finish_axis(axis: Axes, title: str, fontsize: int | None = None) -> None:
    """Label ``axis`` as reward per generation, title it and draw a light grid."""
    axis.set_xlabel("generation")
    axis.set_ylabel("reward")
    axis.set_title(title, fontsize=fontsize)
    axis.grid(alpha=0.3)


def save_figure(figure: Figure, path: Path) -> Path:
    """Write ``figure`` as a PNG at ``path``, close it and return the path."""
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path)
    plt.close(figure)
    return path
