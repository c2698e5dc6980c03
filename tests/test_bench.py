"""The shipped benchmark runs end to end on a tiny model and writes the promised JSON."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import torch

from evosweep.bench.cli import bench_pairs, main, model_settings, same_round_ratio, time_rounds
from evosweep.bench.levers import apply_lever

METHOD_KEYS = ("seed_loop", "batched", "plain", "peft_mixed")


def test_bench_cli_writes_every_method_rate_and_the_grid(tmp_path):
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "evosweep.bench", "--model", "tiny-llama", "--population", "2",
               "--prompts", "2", "--new-tokens", "3", "--json", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert set(result) == {*METHOD_KEYS, "peak_rss_mb", "grid"}
    for key in METHOD_KEYS:
        assert result[key]["evals_per_s"] > 0, key
    assert result["peak_rss_mb"] > 0
    assert result["grid"] | {"population": 2, "prompts": 2, "new_tokens": 3} == result["grid"]
    assert "x plain" in done.stdout and "seed_loop*" in done.stdout


def test_bench_on_gpt2_layout_with_a_subset_and_scaling(tmp_path, capsys):
    out = tmp_path / "subset.json"
    main(["--model", "tiny-gpt2", "--population", "3", "--prompts", "2", "--new-tokens", "2",
          "--repeats", "1", "--batch-size", "4", "--methods", "batched,peft_mixed", "--json", str(out)])
    result = json.loads(out.read_text())
    assert result["seed_loop"]["evals_per_s"] is None and result["plain"]["evals_per_s"] is None
    assert result["batched"]["evals_per_s"] > 0 and result["peft_mixed"]["evals_per_s"] > 0
    main(["--model", "tiny-gpt2", "--scaling", "1", "2", "--prompts", "2", "--new-tokens", "2",
          "--repeats", "1", "--json", str(out)])
    rows = json.loads(out.read_text())["scaling"]
    assert [row["population"] for row in rows] == [1, 2]
    assert all(row["batched_s"] > 0 and row["plain_s"] > 0 for row in rows)
    assert "P=2" in capsys.readouterr().out


def test_rounds_alternate_order_and_ratios_pair_rounds():
    calls = []
    runs = {name: (lambda name=name: calls.append(name) or 4) for name in ("a", "b")}
    times = time_rounds(runs, repeats=3)
    assert calls == ["a", "b", "b", "a", "a", "b"]
    assert all(len(values) == 3 and min(values) >= 0 for values in times.values())
    ratio = same_round_ratio({"plain": [2.0, 4.0, 3.0], "x": [1.0, 4.0, 6.0]}, "x", "plain")
    assert ratio == pytest.approx(1.0)
    assert same_round_ratio({"x": [1.0]}, "x", "plain") is None


def test_prompts_cycle_and_unknown_models_are_named():
    pairs = bench_pairs(70)
    assert len(pairs) == 70 and pairs[60] == pairs[0]
    with pytest.raises(SystemExit, match="tiny-llama"):
        model_settings("no-such-model")


@pytest.mark.slow  # starts a local Ray and loads the model in an actor
def test_bench_workers_times_in_process_and_each_worker_count(tmp_path):
    out = tmp_path / "workers.json"
    assert main(["--model", "tiny-gpt2", "--workers", "1", "--population", "4", "--prompts", "2",
                 "--new-tokens", "2", "--repeats", "1", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["workers"]
    assert [row["workers"] for row in rows] == [0, 1]
    assert all(row["evals_per_s"] > 0 for row in rows)
    assert rows[0]["compute_s"] is None and 0 <= rows[1]["overhead_s"] < rows[1]["generation_s"]
    assert rows[1]["megabytes_sent"] > 0


def test_bench_likelihood_times_each_layout_side_by_side(tmp_path, capsys):
    out = tmp_path / "likelihood.json"
    assert main(["--model", "tiny-llama", "--likelihood", "--layers", "all", "1", "--population", "4",
                 "--prompts", "3", "--repeats", "2", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["likelihood"]
    assert [(row["layers"], row["adapted_layers"]) for row in rows] == [("all", 2), ("1", 1)]
    assert rows[1]["dim"] * 2 == rows[0]["dim"]  # half the layers carry adapters
    assert all(row["evals_per_s"] > 0 and row["evals_per_cpu_s"] > 0 for row in rows)
    assert "x first (all, float32)" in capsys.readouterr().out


def test_bench_likelihood_times_each_dtype_side_by_side(tmp_path):
    out = tmp_path / "likelihood.json"
    assert main(["--model", "tiny-llama", "--likelihood", "--layers", "all",
                 "--dtypes", "float32", "bfloat16", "--population", "2", "--prompts", "2",
                 "--repeats", "1", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["likelihood"]
    assert [(row["layers"], row["dtype"]) for row in rows] == [("all", "float32"), ("all", "bfloat16")]
    assert all(row["evals_per_cpu_s"] > 0 for row in rows)


def test_bench_takes_a_device_and_a_dtype(tmp_path):
    out = tmp_path / "likelihood.json"
    assert main(["--model", "tiny-llama", "--likelihood", "--layers", "all", "--population", "2",
                 "--prompts", "2", "--repeats", "1", "--device", "cpu", "--dtype", "bfloat16",
                 "--json", str(out)]) == 0
    grid = json.loads(out.read_text())["grid"]
    assert (grid["device"], grid["dtype"]) == ("cpu", "bfloat16")


def test_bench_likelihood_times_the_levers_beside_the_plain_pass(tmp_path, capsys):
    out = tmp_path / "likelihood.json"
    assert main(["--model", "tiny-llama", "--likelihood", "--layers", "all", "1", "--levers", "int8",
                 "--population", "2", "--prompts", "2", "--repeats", "2", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["likelihood"]
    assert [(row["layers"], row["lever"]) for row in rows] == [("all", "none"), ("1", "none"),
                                                               ("all", "int8"), ("1", "int8")]
    assert all(row["evals_per_cpu_s"] > 0 and row["warmup_s"] > 0 for row in rows)
    plain, int8 = rows[0]["mean_score"], rows[2]["mean_score"]
    assert math.isfinite(plain) and math.isfinite(int8) and plain != int8  # same members, other weights
    assert "mean score" in capsys.readouterr().out


def test_int8_lever_swaps_every_frozen_linear_but_the_output_embeddings(tiny_llama):
    model = tiny_llama.model
    linears = sum(isinstance(module, torch.nn.Linear) for module in model.modules())
    head = model.get_output_embeddings()
    with torch.no_grad():
        ids = torch.tensor([[5, 6, 7, 8]])
        before = model(input_ids=ids).logits
        assert apply_lever(model, "int8") == linears - 1
        after = model(input_ids=ids).logits
    assert model.get_output_embeddings() is head and isinstance(head, torch.nn.Linear)
    assert not any(type(module) is torch.nn.Linear for name, module in model.named_modules()
                   if name.endswith("proj"))
    assert not torch.equal(before, after)
    assert float((after - before).norm() / before.norm()) < 0.2  # int8: close (unrelated logits: ~1.4)


@pytest.mark.slow
def test_compile_lever_gives_the_plain_scores(tmp_path):
    out = tmp_path / "likelihood.json"
    assert main(["--model", "tiny-llama", "--likelihood", "--layers", "all", "--levers", "compile",
                 "--population", "2", "--prompts", "2", "--repeats", "1", "--json", str(out)]) == 0
    plain, compiled = json.loads(out.read_text())["likelihood"]
    assert compiled["lever"] == "compile"
    assert compiled["mean_score"] == pytest.approx(plain["mean_score"], abs=1e-4)
