"""The arms of the ablations in conf/experiment: their sweep grid and one override list per arm."""

from __future__ import annotations

import itertools
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig

CONF = Path(__file__).resolve().parent.parent / "conf"
EXPERIMENTS = sorted(path.stem for path in (CONF / "experiment").glob("*.yaml"))


def sweep_grid(cfg: DictConfig) -> dict[str, list[str]]:
    """A composed experiment's ``hydra.sweeper.params`` as ``{key: [values]}``."""
    parsed = OverridesParser.create().parse_overrides(
        [f"{key}={value}" for key, value in cfg.hydra.sweeper.params.items()])
    return {o.get_key_element(): list(o.sweep_string_iterator()) if o.is_sweep_override()
            else [o.get_value_element_as_str()] for o in parsed}


def arm_cells(grid: dict[str, list[str]]) -> list[list[str]]:
    """One override list per configuration of the grid, the seed left at the config's."""
    keys = [key for key in grid if key != "seed"]
    return [[f"{k}={v}" for k, v in zip(keys, values, strict=True)]
            for values in itertools.product(*(grid[k] for k in keys))]
