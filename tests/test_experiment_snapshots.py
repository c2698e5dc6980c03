"""Every arm of every experiment resolves to the config committed in tests/snapshots/experiments/.

A change to a default, a config group or an experiment file that moves an arm shows up
here as a diff, so published results keep the config they ran with (or the change is
made on purpose). Rewrite the snapshots after such a change with
``EVOSWEEP_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_experiment_snapshots.py``
and review the diff.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from experiment_arms import CONF, EXPERIMENTS, arm_cells, sweep_grid
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots" / "experiments"
UPDATE = os.environ.get("EVOSWEEP_UPDATE_SNAPSHOTS") == "1"
HEADER = ("# The resolved config of each arm of conf/experiment/{name}.yaml (the hydra node left out).\n"
          "# Written by tests/test_experiment_snapshots.py with EVOSWEEP_UPDATE_SNAPSHOTS=1.\n")


@pytest.fixture(scope="module", autouse=True)
def hydra_conf():
    """One Hydra initialisation for the module (composing is then cheap)."""
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        yield


def resolved_arms(name: str) -> dict[str, Any]:
    """``{"sweep": hydra.sweeper.params, "arms": {label: resolved config}}`` of one experiment.

    The ``hydra`` node is left out (run folders carry timestamps); the sweep's params are
    kept, so a change of seeds or arms shows too.
    """
    cfg = compose("config", overrides=[f"+experiment={name}"], return_hydra_config=True)
    sweep = {str(key): str(value) for key, value in cfg.hydra.sweeper.params.items()}
    arms = {}
    for cell in arm_cells(sweep_grid(cfg)):
        arm = resolved(tuple(sweep_order(name, cell)))
        label = str(arm.get("ablation") or " ".join(cell) or name)
        assert label not in arms, f"{name}: two arms labelled {label!r}"
        arms[label] = arm
    return {"sweep": sweep, "arms": arms}


@functools.cache
def resolved(overrides: tuple[str, ...]) -> dict[str, Any]:
    """The resolved config of one override list (composed once for both tests that need it)."""
    return OmegaConf.to_container(compose("config", overrides=list(overrides)), resolve=True)


def sweep_order(name: str, cell: list[str]) -> list[str]:
    """A job's overrides as a ``-m`` sweep composes them: the swept arm first, then the
    command line's ``+experiment=NAME`` (see any run's ``.hydra/overrides.yaml``)."""
    return [*cell, f"+experiment={name}"]


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_arm_files_set_no_key_their_experiment_file_also_sets(name):
    """In a sweep the experiment file is merged after the arm's file and wins on a shared key,
    while a single run with both on the command line lets the arm win: the two must agree."""
    cfg = compose("config", overrides=[f"+experiment={name}"], return_hydra_config=True)
    for cell in arm_cells(sweep_grid(cfg)):
        swept = resolved(tuple(sweep_order(name, cell)))
        single = resolved((f"+experiment={name}", *cell))
        differing = sorted(_differing_keys(swept, single))
        assert not differing, (f"conf/experiment/{name}.yaml and its arm {cell} both set {differing}: a -m "
                               "sweep keeps the experiment file's value: set these keys in the arm files")


def _differing_keys(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two resolved configs."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [key for k in sorted(set(a) | set(b))
                for key in _differing_keys(a.get(k), b.get(k), f"{prefix}{k}.")]
    return [] if a == b else [prefix.rstrip(".")]


def _write(path: Path, name: str, snapshot: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump(snapshot, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(HEADER.format(name=name) + body)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_arms_match_their_snapshot(name):
    path = SNAPSHOTS / f"{name}.yaml"
    snapshot = resolved_arms(name)
    if UPDATE:
        _write(path, name, snapshot)
    assert path.is_file(), f"no snapshot {path}: run with EVOSWEEP_UPDATE_SNAPSHOTS=1 and commit it"
    stored = yaml.safe_load(path.read_text())
    assert stored == snapshot, (f"conf/experiment/{name}.yaml no longer resolves to {path.name}; if the "
                                "change is meant, rerun with EVOSWEEP_UPDATE_SNAPSHOTS=1 and review the diff")


def test_every_snapshot_belongs_to_an_experiment():
    stale = sorted(path.stem for path in SNAPSHOTS.glob("*.yaml") if path.stem not in EXPERIMENTS)
    if UPDATE:
        for stem in stale:
            (SNAPSHOTS / f"{stem}.yaml").unlink()
        stale = []
    assert not stale, f"snapshots of experiments that no longer exist: {stale}"
