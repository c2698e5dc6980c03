"""Where the project's Hydra configs live (``conf/`` beside the package)."""

from pathlib import Path

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
