"""The second held-out set (task.transfer_path): read at the start and end, equal to check_adapter's score."""

from __future__ import annotations

import json
import re

import pytest
from conftest import TINY_RUN

from evosweep.assemble import assemble
from evosweep.check_adapter import DEFAULT_PAIRS, main
from evosweep.errors import TaskFileError
from evosweep.evaluation.measure_labels import COMMON_LABELS
from evosweep.run import run, seed_everything
from evosweep.settings.build import build_settings
from evosweep.state.checkpoint import load_checkpoint
from evosweep.tasks.kinds import all_measure_labels
from evosweep.tasks.task import load_task

#: ES with large steps, so that the final best's answers differ from the base's
MOVING = [o if o != "algorithm=ga" else "algorithm=es" for o in TINY_RUN] + [
    "algorithm.sigma=0.5", "algorithm.learning_rate=0.5", "eval.heldout_every=2"]


def write_pairs(path, prompts: list[str], references: list[str]):
    path.write_text("".join(json.dumps({"prompt": p, "reference": r}) + "\n"
                            for p, r in zip(prompts, references, strict=True)))
    return path


def test_fr_en_reads_the_bundled_second_set_by_default(compose_config):
    task = load_task(build_settings(compose_config(["task=fr_en"])).task)
    assert len(task.transfer) == 30
    assert task.transfer[0].prompt.startswith("Translate '")
    assert load_task(build_settings(compose_config(["task=bonjour"])).task).transfer == []


def test_a_missing_transfer_file_names_the_file(compose_config, tmp_path):
    settings = build_settings(compose_config(["task=fr_en", f"task.transfer_path={tmp_path}/nope.jsonl"]))
    with pytest.raises(TaskFileError, match="nope.jsonl: task file not found"):
        load_task(settings.task)


def test_the_run_scores_the_second_set_at_start_and_end_as_check_adapter_does(compose_config, tmp_path,
                                                                              capsys):
    prompts = ["Translate 'chat' to English:", "Translate 'eau' to English:",
               "Translate 'pain' to English:", "Translate 'lune' to English:"]
    # references: the base model's own greedy answers to the first two, nonsense for the others,
    # so the base reads exactly half of the set right
    probe = write_pairs(tmp_path / "probe.jsonl", prompts, ["x"] * 4)
    probe_cfg = compose_config(MOVING + [f"task.transfer_path={probe}"])
    parts = assemble(build_settings(probe_cfg), seed_everything(0))
    base_answers = parts.evaluator.greedy_answers(parts.initial_member, parts.task.transfer)
    assert all(answer.strip() for answer in base_answers[:2])
    pairs = write_pairs(tmp_path / "forms.jsonl", prompts, [*base_answers[:2], "zzzq", "qqqz"])

    run(compose_config(MOVING + [f"task.transfer_path={pairs}"]), tmp_path / "run")
    checkpoint = load_checkpoint(tmp_path / "run")
    assert checkpoint["base"]["heldout/base_transfer_exact"] == 0.5
    assert all("heldout/transfer_exact" not in row for row in checkpoint["history"])  # start and end only
    summary = (tmp_path / "run" / "summary.md").read_text()
    row = re.search(r"second held-out set exact \(base -> final\) *\| "
                    r"50% -> (\d+%) of 4 \(task.transfer_path\)", summary)
    assert row is not None, summary

    out = tmp_path / "check.json"
    assert main([str(tmp_path / "run" / "adapters" / "best"), "--model", "tiny-gpt2", "--pairs", str(pairs),
                 "--max-new-tokens", "4", "--json", str(out)]) == 0
    checked = json.loads(out.read_text())
    assert checked["base_exact"] == 0.5
    final = f"{checked['adapter_exact']:.0%}"
    assert row.group(1) == final
    assert checked["adapter"] != checked["base"]  # the final best answers differently
    capsys.readouterr()


def test_the_second_sets_measure_is_labelled_for_summaries_and_report_tables():
    assert COMMON_LABELS["transfer_exact"].column == "second set exact"
    order = list(all_measure_labels())
    assert order.index("transfer_exact") < order.index("kl")
    assert DEFAULT_PAIRS == "builtin:fr_en_forms.jsonl"
