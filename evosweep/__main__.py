"""``python -m evosweep [overrides]`` and ``python -m evosweep -m ...`` (multirun)."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from evosweep.errors import EvosweepError
from evosweep.run import run
from evosweep.settings.conf_dir import CONF_DIR

CONFIG_DIR = str(CONF_DIR)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> float:
    """Hydra task function: returns the objective (held-out reward of the final best)."""
    try:
        return run(cfg, Path(HydraConfig.get().runtime.output_dir))
    except EvosweepError as error:
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            raise  # one failed trial; the sweeper decides whether the sweep goes on
        print(f"evosweep: error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
