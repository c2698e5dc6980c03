"""Task loading: bundled data, user JSONL, and errors that name file and line."""

from __future__ import annotations

import json

import pytest

from evosweep.errors import ConfigError, TaskFileError
from evosweep.settings.task import TaskSettings
from evosweep.tasks.pairs import load_jsonl
from evosweep.tasks.task import load_task


def test_bundled_french_english_task_has_enough_pairs():
    task = load_task(TaskSettings(name="fr_en", train_path="builtin:fr_en_train.jsonl",
                                  eval_path="builtin:fr_en_heldout.jsonl"))
    assert len(task.train) + len(task.heldout) >= 60
    assert not {p.prompt for p in task.train} & {p.prompt for p in task.heldout}


def test_inline_task_uses_train_as_heldout():
    task = load_task(TaskSettings(train_pairs=[{"prompt": "p", "reference": "r"}]))
    assert task.heldout == task.train


def test_user_jsonl_and_max_train(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(json.dumps({"prompt": f"p{i}", "reference": f"r{i}"})
                              for i in range(5)) + "\n\n")
    task = load_task(TaskSettings(train_path=str(path), max_train=3))
    assert [p.reference for p in task.train] == ["r0", "r1", "r2"]


@pytest.mark.parametrize("line,needle", [
    ("{not json", "invalid JSON"),
    ('["a list"]', "expected a JSON object"),
    ('{"prompt": "x"}', "missing key(s) reference"),
    ('{"prompt": 1, "reference": "y"}', "must be strings"),
])
def test_malformed_line_names_file_and_line(tmp_path, line, needle):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "ok", "reference": "fine"}\n' + line + "\n")
    with pytest.raises(TaskFileError) as error:
        load_jsonl(path)
    assert f"{path}:2" in str(error.value)
    assert needle in str(error.value)


def test_missing_file_and_missing_source():
    with pytest.raises(TaskFileError, match="not found"):
        load_jsonl("/nonexistent/file.jsonl")
    with pytest.raises(ConfigError, match="task.train_path"):
        TaskSettings()
