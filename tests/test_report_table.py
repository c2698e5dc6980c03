"""Grouping runs into configurations, labels, statistics and the missing-run list (no MLflow)."""

from __future__ import annotations

import math

import pytest

from evosweep.report.plots import seed_band
from evosweep.report.runs import RunRecord
from evosweep.report.table import (
    group_runs,
    markdown_table,
    measures_table,
    problems,
    summary_rows,
    varying_keys,
)


def record(seed: int, final: float | None = 1.0, status: str = "FINISHED", **params: str) -> RunRecord:
    base = {"seed": str(seed), "tracking.run_name": f"r{seed}", "model.name": "m"}
    return RunRecord(
        run_id=f"id{seed}{sorted(params.items())}", name=f"run{seed}", status=status,
        params={**base, **params}, tags={}, wall_s=10.0 + seed, final=final, base=-5.0,
        reward_evals=64.0, best_curve={0: float(seed), 1: float(seed) + 1},
    )


def test_runs_logged_before_a_class_moved_group_with_runs_after_it():
    """``_target_`` paths change when code moves (evosweep.operators -> evosweep.algorithms.operators)."""
    runs = [
        record(0, **{"algorithm.name": "ga",
                     "operators.mutation._target_": "evosweep.operators.GaussianMutation"}),
        record(1, **{"algorithm.name": "ga",
                     "operators.mutation._target_": "evosweep.algorithms.operators.GaussianMutation"}),
    ]
    configurations, keys = group_runs(runs)
    assert keys == [] and len(configurations) == 1
    assert configurations[0].seeds == ["0", "1"]


def test_algorithm_name_alone_labels_an_algorithm_comparison():
    runs = [
        record(0, **{"algorithm.name": "ga", "algorithm._target_": "GA", "algorithm.elite": "2"}),
        record(0, **{"algorithm.name": "es", "algorithm._target_": "ES", "algorithm.sigma": "0.001"}),
        record(1, **{"algorithm.name": "ga", "algorithm._target_": "GA", "algorithm.elite": "2"}),
    ]
    assert varying_keys(runs) == ["algorithm.elite", "algorithm.name",
                                  "algorithm.sigma"]  # seed, tracking.* and _target_ never count
    configurations, _ = group_runs(runs)
    assert [c.label for c in configurations] == ["algorithm.name=ga", "algorithm.name=es"]
    assert [c.seeds for c in configurations] == [["0", "1"], ["0"]]
    assert configurations[1].params["algorithm.elite"] is None


def test_a_key_that_follows_another_adds_nothing_to_the_label():
    runs = [record(s, **{"algorithm.learning_rate": str(x / 2), "algorithm.sigma": str(x)})
            for s in (0, 1) for x in (0.001, 0.002)]
    labels = [c.label for c in group_runs(runs)[0]]
    assert labels == ["algorithm.learning_rate=0.0005", "algorithm.learning_rate=0.001"]


def test_the_ablation_param_names_configurations_when_it_is_unique():
    runs = [record(s, ablation=f"sigma={x}", **{"algorithm.sigma": x}) for s in (0, 1) for x in ("1", "2")]
    assert [c.label for c in group_runs(runs)[0]] == ["sigma=1", "sigma=2"]
    clash = [record(0, ablation="same", **{"algorithm.sigma": "1"}),
             record(0, ablation="same", **{"algorithm.sigma": "2"})]
    assert [c.label for c in group_runs(clash)[0]] == ["algorithm.sigma=1", "algorithm.sigma=2"]


def test_statistics_use_only_complete_runs_and_the_rest_are_listed():
    runs = [record(0, final=1.0, size="4"), record(1, final=3.0, size="4"),
            record(2, final=None, size="4"), record(3, final=9.0, status="FAILED", size="4"),
            record(0, final=2.0, size="8")]
    configurations, keys = group_runs(runs)
    rows = summary_rows(configurations, keys)
    assert rows[0]["n_seeds"] == 2 and rows[0]["seeds"] == "0 1"
    assert rows[0]["heldout_final_mean"] == 2.0
    assert rows[0]["heldout_final_std"] == pytest.approx(math.sqrt(2))
    assert rows[0]["fitness_best_mean"] == 1.5  # last generation: seed + 1
    assert rows[0]["wall_s_mean"] == 10.5 and rows[0]["size"] == "4"
    assert math.isnan(rows[1]["heldout_final_std"])  # one seed: no spread
    listed = problems(configurations)
    assert any("seed 2" in line and "no heldout/final" in line for line in listed)
    assert any("seed 3" in line and "status FAILED" in line for line in listed)
    assert any(line.startswith("`size=8`: no run at all for seed(s) 1, 2, 3") for line in listed)
    table = markdown_table(rows)
    assert "| `size=4` | 0 1 (2) | 2.0000 ± 1.4142 |" in table
    assert "| `size=8` | 0 (1) | 2.0000 |" in table


def test_seed_band_spans_the_seeds_at_every_step():
    steps, means, lows, highs = seed_band([{0: 1.0, 1: 2.0}, {0: 3.0, 1: 6.0, 2: 7.0}])
    assert steps == [0, 1, 2]
    assert means == [2.0, 4.0, 7.0] and lows == [1.0, 2.0, 7.0] and highs == [3.0, 6.0, 7.0]


def test_answer_measures_get_their_own_table_with_only_the_logged_columns():
    runs = [record(0, size="4"), record(1, size="4"), record(0, size="8")]
    runs[0].final_measures = {"kl": 0.01, "chrf": 0.5}
    runs[1].final_measures = {"kl": 0.03, "chrf": 0.7}
    rows = summary_rows(*group_runs(runs))
    assert rows[0]["heldout_final_kl_mean"] == pytest.approx(0.02)
    assert "heldout_final_kl_mean" not in rows[1]  # that configuration logged none
    table = measures_table(rows)
    assert table.splitlines()[0] == "| configuration | chrF | KL to base (nats/token) |"
    assert "| `size=4` | 0.600 ± 0.141 | 0.0200 ± 0.0141 |" in table
    assert "| `size=8` | - | - |" in table
    assert measures_table(summary_rows(*group_runs([record(0)]))) == ""


def test_shares_of_answers_print_in_percent_like_the_exact_column():
    runs = [record(0), record(1)]
    runs[0].final_measures = {"transfer_exact": 0.1, "kl": 1.0}
    runs[1].final_measures = {"transfer_exact": 0.3, "kl": 2.0}
    table = measures_table(summary_rows(*group_runs(runs)))
    assert table.splitlines()[0] == "| configuration | second set exact | KL to base (nats/token) |"
    assert table.splitlines()[2].endswith("| 20 ± 14% | 1.5000 ± 0.7071 |")
