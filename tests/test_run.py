"""End to end on tiny-gpt2: the loop improves, repeats bit for bit, and tracks to MLflow."""

from __future__ import annotations

import re

import torch
from conftest import TINY_RUN
from mlflow.tracking import MlflowClient
from peft import PeftModel

from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.models.loading import load_model
from evosweep.run import out_of_time, run
from evosweep.settings.model_conf import model_settings
from evosweep.state.checkpoint import load_checkpoint

LEARNING = ["model=tiny-gpt2", "algorithm=ga", "task=fr_en", "task.max_train=4", "task.max_eval=4",
            "algorithm.population_size=8", "algorithm.generations=8",
            "algorithm.mutation_scale=0.1", "tracking=none"]


def test_loop_improves_fitness_on_tiny_gpt2(compose_config, tmp_path):
    run(compose_config(LEARNING), tmp_path)
    history = load_checkpoint(tmp_path)["history"]
    assert len(history) == 8
    assert history[-1]["fitness/best"] > history[0]["fitness/best"] + 0.05
    bests = [row["fitness/best"] for row in history]
    assert bests == sorted(bests)  # elitism: the best never gets worse


def test_same_seed_same_history_bit_for_bit(compose_config, tmp_path):
    first = run(compose_config(TINY_RUN + ["seed=3"]), tmp_path / "a")
    second = run(compose_config(TINY_RUN + ["seed=3"]), tmp_path / "b")
    other = run(compose_config(TINY_RUN + ["seed=4"]), tmp_path / "c")
    fitness = [
        [row["fitness/mean"] for row in load_checkpoint(tmp_path / name)["history"]]
        for name in "abc"
    ]
    assert first == second
    assert fitness[0] == fitness[1]
    # another seed draws another population: its fitness differs from the first generation on
    assert fitness[0][0] != fitness[2][0]
    assert other == load_checkpoint(tmp_path / "c")["final"]


def test_mlflow_run_has_metrics_params_and_a_reloadable_adapter(compose_config, tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    overrides = [o for o in TINY_RUN if o != "tracking=none"] + [
        "tracking=mlflow", f"tracking.uri={uri}", "tracking.experiment=t",
        f"tracking.artifact_location={tmp_path}/artifacts", "reward=chrf"]
    objective = run(compose_config(overrides), tmp_path / "run")
    client = MlflowClient(uri)
    (mlrun,) = client.search_runs([client.get_experiment_by_name("t").experiment_id])
    assert mlrun.info.status == "FINISHED"
    assert mlrun.data.params["algorithm.population_size"] == "6"
    for key in ("fitness/best", "fitness/mean", "fitness/std", "heldout/best", "perf/evals_per_s"):
        history = client.get_metric_history(mlrun.info.run_id, key)
        assert [m.step for m in history] == [0, 1, 2, 3], key
    assert client.get_metric_history(mlrun.info.run_id, "heldout/final")[0].value == objective
    names = {a.path for a in client.list_artifacts(mlrun.info.run_id, "adapters/best")}
    assert names == {"adapters/best/adapter_config.json", "adapters/best/adapter_model.safetensors"}
    assert client.list_artifacts(mlrun.info.run_id, "plots")[0].path.endswith(".png")

    folder = client.download_artifacts(mlrun.info.run_id, "adapters/best", str(tmp_path / "dl"))
    settings = model_settings("tiny-gpt2")
    evolved = load_model(settings)
    layout = LoraLayout.from_model(evolved.model, settings.lora)
    best = load_checkpoint(tmp_path / "run")["algorithm"]["best"]
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    with BatchedLora(evolved.model, layout).members(best[None]), torch.no_grad():
        during = evolved.model(ids).logits
    peft_model = PeftModel.from_pretrained(load_model(settings).model, folder).eval()
    with torch.no_grad():
        torch.testing.assert_close(peft_model(ids).logits, during, rtol=1e-5, atol=1e-5)


def test_time_limit_stops_after_the_generation_that_crosses_it(compose_config, tmp_path):
    final = run(compose_config(TINY_RUN + ["time_limit_s=0.001"]), tmp_path)
    checkpoint = load_checkpoint(tmp_path)
    assert len(checkpoint["history"]) == 1  # 4 generations asked, the first one crossed the limit
    assert checkpoint["final"] == final
    assert (tmp_path / "summary.md").is_file()


def test_the_summary_names_the_model_and_the_dtype_it_ran_in(compose_config, tmp_path):
    run(compose_config(TINY_RUN + ["time_limit_s=0.001"]), tmp_path)
    summary = (tmp_path / "summary.md").read_text()
    row = r"^\| model +\| builtin:tiny-gpt2, float32 \(model.dtype=float32\) \|$"
    assert re.search(row, summary, re.M), summary


def test_a_cpu_time_limit_counts_this_process_s_cpu_seconds(compose_config, tmp_path):
    run(compose_config(TINY_RUN + ["time_limit_s=0.001", "time_limit_clock=cpu"]), tmp_path)
    history = load_checkpoint(tmp_path)["history"]
    assert len(history) == 1 and history[0]["perf/generation_cpu_s"] > 0
    assert not out_of_time([{"perf/generation_s": 9.0, "perf/generation_cpu_s": 1.0}], 5.0, "cpu")
    assert out_of_time([{"perf/generation_s": 9.0, "perf/generation_cpu_s": 1.0}], 5.0, "wall")


def test_a_bad_time_limit_is_named(compose_config):
    import pytest

    from evosweep.errors import ConfigError
    from evosweep.settings.build import build_settings

    with pytest.raises(ConfigError, match="time_limit_s: must be a number of seconds > 0"):
        build_settings(compose_config(["time_limit_s=-5"]))
    with pytest.raises(ConfigError, match="time_limit_clock: must be 'wall' or 'cpu'"):
        build_settings(compose_config(["time_limit_clock=gpu"]))


def test_a_time_budget_shows_in_the_progress_bar_instead_of_a_generation_total(compose_config, tmp_path,
                                                                                capsys):
    run(compose_config(TINY_RUN + ["algorithm.generations=1000", "time_limit_s=0.001"]), tmp_path)
    bar = capsys.readouterr().err
    assert "budget=" in bar and "wall-s" in bar
    assert "/1000" not in bar  # no "1/1000 gens" when the budget, not the count, ends the run
