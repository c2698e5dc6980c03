"""A run folder's checkpoint is data, never code: crafted pickles are refused by name."""

from __future__ import annotations

import pickle

import pytest
import torch

from evosweep.errors import CheckpointError
from evosweep.state.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint


class _Exploit:
    """Unpickling calls ``print`` with a marker: any code execution would show."""

    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('x')",))


def test_a_crafted_pickle_is_refused_and_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open(tmp_path / CHECKPOINT_NAME, "wb") as stream:
        torch.save({"algorithm": _Exploit()}, stream, pickle_protocol=pickle.HIGHEST_PROTOCOL)
    with pytest.raises(CheckpointError, match=CHECKPOINT_NAME) as caught:
        load_checkpoint(tmp_path)
    assert "refused" in str(caught.value)
    assert not (tmp_path / "PWNED").exists()


def test_a_plain_checkpoint_round_trips(tmp_path):
    state = {"history": [{"generation": 0, "fitness/best": 1.5}], "rng": {"python": (3, (1, 2), None)},
             "population": torch.arange(6.0).view(2, 3), "generator": torch.Generator().get_state()}
    save_checkpoint(tmp_path, state)
    loaded = load_checkpoint(tmp_path)
    assert loaded["history"] == state["history"]
    assert torch.equal(loaded["population"], state["population"])
