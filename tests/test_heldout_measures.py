"""What the held-out check measures: answer measures per kind of task, KL to the base, logged per run."""

from __future__ import annotations

import pytest
import torch
from conftest import TINY_RUN

from evosweep.errors import ConfigError
from evosweep.evaluation.divergence import kl_to_base
from evosweep.evaluation.prompts import encode_targets
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.run import run
from evosweep.settings.build import build_settings
from evosweep.state.checkpoint import load_checkpoint
from evosweep.tasks.countdown import CountdownProblem
from evosweep.tasks.countdown_measures import COUNTDOWN_MEASURES, countdown_measures
from evosweep.tasks.kinds import TASK_KINDS, all_measure_labels, measures_for
from evosweep.tasks.measures import TaskMeasures
from evosweep.tasks.pairs import Pair
from evosweep.tasks.task import load_task
from evosweep.tasks.text import TEXT_MEASURES, text_measures


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
    assert measures_for("countdown")(answers, [reference] * 4) == measures
    assert "chrf" in measures_for("text")(["a"], ["a"])


@pytest.mark.parametrize("task,kind", [("fr_en", "text"), ("bonjour", "text"), ("countdown", "countdown"),
                                       ("jsonl", "text")])
def test_every_task_file_says_its_measures(compose_config, task, kind):
    extra = ["task.train_path=builtin:fr_en_train.jsonl"] if task == "jsonl" else []
    assert build_settings(compose_config([f"task={task}", *extra])).task.measures == kind


def test_a_renamed_countdown_task_keeps_the_countdown_measures(compose_config):
    """The kind is ``task.measures``, not the name: countdown_hard still counts well-formed answers."""
    cfg = compose_config(["task=countdown", "task.name=countdown_hard", "task.max_eval=2"])
    task = load_task(build_settings(cfg).task)
    assert task.name == "countdown_hard" and task.measures is COUNTDOWN_MEASURES
    measured = task.measures(["<answer>1 + 2</answer>"], [task.heldout[0].reference])
    assert set(measured) == {"format", "accuracy"}
    renamed = load_task(build_settings(compose_config(["task=fr_en", "task.name=countdown"])).task)
    assert renamed.measures is TEXT_MEASURES  # and a text task named countdown stays text


def test_an_unknown_measure_kind_is_a_one_line_config_error(compose_config):
    with pytest.raises(ConfigError) as caught:
        build_settings(compose_config(["task.measures=bleu"]))
    assert str(caught.value) == "task.measures: must be one of text, countdown; got 'bleu'"
    with pytest.raises(ConfigError, match=r"^task\.measures: must be one of text, countdown; got 'bleu'$"):
        measures_for("bleu")


def test_a_kind_registered_in_task_kinds_is_a_valid_task_measures(compose_config, monkeypatch):
    assert all(kind.kind == name for name, kind in TASK_KINDS.items())
    yes_no = TaskMeasures("yes_no", lambda answers, references: {"yes": 1.0}, {})
    monkeypatch.setitem(TASK_KINDS, "yes_no", yes_no)  # what registering a new kind is
    settings = build_settings(compose_config(["task.measures=yes_no"]))
    assert load_task(settings.task).measures is yes_no


def test_the_task_labels_its_measures_and_headlines_one_in_the_progress_bar():
    assert COUNTDOWN_MEASURES.progress_fields({"format": 0.4, "accuracy": 0.1}) == {"format": "40%"}
    assert COUNTDOWN_MEASURES.progress_fields({}) == {}
    assert TEXT_MEASURES.progress_fields({"chrf": 0.3}) == {}
    assert COUNTDOWN_MEASURES.label("accuracy").summary == "held-out answers correct"
    assert TEXT_MEASURES.label("kl").column == "KL to base (nats/token)"  # every task's
    assert TEXT_MEASURES.label("bleu").summary == "held-out bleu"  # unlabelled: its own name
    assert list(all_measure_labels()) == ["answer_words", "answer_chars", "chrf", "format", "accuracy",
                                         "transfer_exact", "kl"]


def batched_lora(loaded) -> tuple[LoraLayout, BatchedLora]:
    """The model config's LoRA layout and its batched adapters, wrapped into ``loaded``'s model."""
    layout = LoraLayout.from_model(loaded.model, loaded.settings.lora)
    return layout, BatchedLora(loaded.model, layout)


def test_kl_to_base_is_zero_for_the_base_and_grows_with_the_adapter(tiny_gpt2):
    layout, lora = batched_lora(tiny_gpt2)
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


def test_kl_to_base_with_the_shared_head_equals_the_full_rows(tiny_gpt2):
    layout, lora = batched_lora(tiny_gpt2)
    generator = torch.Generator().manual_seed(1)
    member = layout.initial_member(generator) + 0.3 * torch.randn(layout.dim, generator=generator)
    pairs = [Pair("Translate to English please: bonjour", "hello"),
             Pair("Translate to English please: merci beaucoup", "thank you")]
    answers = ["hello there", "thanks a lot"]
    rows = [Pair(pair.prompt, answer) for pair, answer in zip(pairs, answers, strict=True)]
    assert encode_targets(tiny_gpt2, rows, False, "cpu", split_head=True)["head"].numel() > 3
    shared = kl_to_base(tiny_gpt2, lora, member, pairs, answers, share_head=True)
    full = kl_to_base(tiny_gpt2, lora, member, pairs, answers, share_head=False)
    assert shared > 0.01
    assert shared == pytest.approx(full, rel=1e-4)


def test_kl_to_base_of_an_all_zero_b_is_zero_without_a_forward_pass(tiny_gpt2, monkeypatch):
    layout, lora = batched_lora(tiny_gpt2)
    member = layout.initial_member(torch.Generator().manual_seed(0))  # random A, B = 0
    assert member[~layout.b_mask()].abs().sum() > 0
    monkeypatch.setattr("evosweep.evaluation.divergence.next_token_distributions",
                        lambda *args, **kwargs: pytest.fail("no pass is needed for B = 0"))
    assert kl_to_base(tiny_gpt2, lora, member, [Pair("bonjour", "hello")], ["hello"]) == 0.0


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


def test_final_check_reuses_the_last_generations_check_of_the_same_member(compose_config, tmp_path,
                                                                          monkeypatch):
    import evosweep.evaluation.heldout as heldout

    checked = []
    real = heldout.check_heldout
    monkeypatch.setattr(heldout, "check_heldout", lambda *args, **kw: checked.append(1) or real(*args, **kw))
    run(compose_config(TINY_RUN + ["algorithm.generations=3", "eval.heldout_every=2"]), tmp_path)
    history = load_checkpoint(tmp_path)["history"]
    assert [row["generation"] for row in history if "heldout/best" in row] == [1, 2]
    assert checked == []  # the final check (in finish) took generation 2's: no third pass
    assert load_checkpoint(tmp_path)["final"] == history[-1]["heldout/best"]


def test_fresh_check_for_another_member_or_sampled_answers(monkeypatch):
    import evosweep.evaluation.heldout as heldout

    calls = []
    monkeypatch.setattr(heldout, "check_heldout", lambda *args, **kw: calls.append(args[1]) or "fresh")
    last = heldout.CheckedMember(torch.zeros(3), None, "reused")

    class Settings:
        do_sample = False

    class Evaluator:
        settings = Settings()

    task = object()
    assert heldout.check_or_reuse(Evaluator(), torch.zeros(3), task, None, last) == "reused"
    assert heldout.check_or_reuse(Evaluator(), torch.ones(3), task, None, last) == "fresh"
    assert heldout.check_or_reuse(Evaluator(), torch.zeros(3), task, "another prompt", last) == "fresh"
    Settings.do_sample = True
    assert heldout.check_or_reuse(Evaluator(), torch.zeros(3), task, None, last) == "fresh"
    assert len(calls) == 3


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
