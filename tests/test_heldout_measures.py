"""What the held-out check measures: answer measures per task, KL to the base, logged per run."""

from __future__ import annotations

import pytest
import torch
from conftest import TINY_RUN

from evosweep.evaluation.answers import answer_measures, countdown_measures, text_measures
from evosweep.evaluation.divergence import kl_to_base
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.run import run
from evosweep.state.checkpoint import load_checkpoint
from evosweep.tasks.countdown import CountdownProblem
from evosweep.tasks.pairs import Pair


def test_text_measures_chrf_is_one_for_the_reference_and_low_off_topic():
    exact = text_measures(["hello", "thank you"], ["hello", "thank you"])
    assert exact["chrf"] == pytest.approx(1.0)
    assert exact["answer_chars"] == pytest.approx((5 + 9) / 2)
    off = text_measures(["zzzz", "qqqq"], ["hello", "thank you"])
    assert off["chrf"] < 0.05


def test_countdown_measures_count_well_formed_and_correct_answers():
    reference = CountdownProblem(numbers=(2, 3, 4), target=14).to_reference()
    answers = ["<answer>(2 + 5) * 2</answer>",  # evaluates, wrong numbers
               "<answer>2 + 3 * 4</answer>",  # right
               "<answer>two</answer>",  # tags, no arithmetic
               "14"]  # no tags
    measures = countdown_measures(answers, [reference] * 4)
    assert measures == {"format": 0.5, "accuracy": 0.25}
    assert answer_measures("countdown", answers, [reference] * 4) == measures
    assert "chrf" in answer_measures("fr_en", ["a"], ["a"])


def test_kl_to_base_is_zero_for_the_base_and_grows_with_the_adapter(tiny_gpt2):
    layout = LoraLayout.from_model(tiny_gpt2.model, tiny_gpt2.settings.lora)
    lora = BatchedLora(tiny_gpt2.model, layout)
    generator = torch.Generator().manual_seed(0)
    base = layout.initial_member(generator)  # B = 0: the base model's behaviour
    pairs = [Pair("bonjour", "hello"), Pair("merci", "thank you")]
    answers = ["hello there", "thanks"]
    assert kl_to_base(tiny_gpt2, lora, base, pairs, answers) == pytest.approx(0.0, abs=1e-6)
    direction = torch.randn(base.shape, generator=generator)
    small = kl_to_base(tiny_gpt2, lora, base + 0.05 * direction, pairs, answers)
    large = kl_to_base(tiny_gpt2, lora, base + 0.5 * direction, pairs, answers)
    assert 0 < small < large
    assert kl_to_base(tiny_gpt2, lora, base + 0.5 * direction, pairs, ["", ""]) == 0.0


def test_a_run_logs_measures_and_kl_per_generation_base_and_final(compose_config, tmp_path):
    overrides = [o if o != "algorithm=ga" else "algorithm=es" for o in TINY_RUN]
    run(compose_config(overrides + ["algorithm.sigma=0.5", "algorithm.learning_rate=0.5"]), tmp_path)
    checkpoint = load_checkpoint(tmp_path)
    base, history = checkpoint["base"], checkpoint["history"]
    assert base["heldout/base_kl"] == pytest.approx(0.0, abs=1e-6)  # the unchanged adapter
    assert 0.0 <= base["heldout/base_chrf"] <= 1.0
    for row in history:
        assert row["heldout/kl"] >= 0 and 0.0 <= row["heldout/chrf"] <= 1.0
        assert row["heldout/answer_chars"] >= 0
    assert any(row["heldout/kl"] > 1e-4 for row in history)  # ES moves its mean, and with it the model
    summary = (tmp_path / "summary.md").read_text()
    assert "KL to the base model per answer token" in summary and "held-out chrF" in summary


def test_heldout_kl_can_be_switched_off(compose_config, tmp_path):
    run(compose_config(TINY_RUN + ["eval.heldout_kl=false"]), tmp_path)
    assert "heldout/kl" not in load_checkpoint(tmp_path)["history"][-1]


def test_heldout_every_checks_every_nth_generation_and_the_last(compose_config, tmp_path):
    run(compose_config(TINY_RUN + ["algorithm.generations=5", "eval.heldout_every=2"]), tmp_path)
    history = load_checkpoint(tmp_path)["history"]
    checked = [row["generation"] for row in history if "heldout/best" in row]
    assert checked == [1, 3, 4]  # every 2nd, then the last
    assert all("fitness/best" in row for row in history)
    assert (tmp_path / "fitness_curve.png").stat().st_size > 0
    assert load_checkpoint(tmp_path)["final"] == history[-1]["heldout/best"]  # the end-of-run check


def test_heldout_every_must_be_a_positive_whole_number(compose_config, tmp_path):
    from evosweep.errors import ConfigError
    from evosweep.settings.build import build_settings

    for value, message in (("0", "must be > 0"), ("1.5", "whole number")):
        with pytest.raises(ConfigError, match=rf"eval\.heldout_every.*{message}"):
            build_settings(compose_config(TINY_RUN + [f"eval.heldout_every={value}"]))


def test_the_base_answers_are_kept_from_the_start_and_match_a_fresh_greedy_pass(compose_config, tmp_path):
    """The summary's base column comes from the checkpoint, not a second generation at the end."""
    from evosweep.assemble import assemble
    from evosweep.run import seed_everything
    from evosweep.settings.build import build_settings

    overrides = TINY_RUN + ["reward=chrf", "eval.max_new_tokens=6"]  # the text reward's own answers
    run(compose_config(overrides), tmp_path)
    kept = load_checkpoint(tmp_path)["base_answers"]
    parts = assemble(build_settings(compose_config(overrides)), seed_everything(0))
    assert kept == parts.evaluator.greedy_answers(parts.initial_member, parts.task.heldout)
    assert len(kept) == len(parts.task.heldout) >= 1
