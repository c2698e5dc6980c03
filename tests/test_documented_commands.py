"""Every command in README.md and docs/ runs: checked up to the point where the model loads.

``python -m evosweep ...`` composes and builds its settings (every cell of a sweep),
``make X`` passes ``make -n``, documented failures fail with their documented message.
Commands that need something outside the repository are listed in ``doc_commands``
(EXTERNAL_*, READER_FILES) and skipped with the reason. See tests/doc_commands.py for the rules.
"""

from __future__ import annotations

import pytest
from doc_commands import Command, all_commands, check, extract, pages

COMMANDS = all_commands()


def test_the_docs_have_commands_to_check():
    assert len(COMMANDS) > 50
    assert {command.page for command in COMMANDS} >= {"README.md", "docs/getting-started.md"}


@pytest.mark.parametrize("command", COMMANDS, ids=[command.id for command in COMMANDS])
def test_documented_command_runs(command: Command):
    outcome = check(command)
    assert not outcome.errors, f"{command.id}: {command.text}\n" + "\n".join(outcome.errors)
    if outcome.skipped:
        pytest.skip(outcome.skipped)
    assert outcome.checked >= 1


def test_a_documented_failure_is_expected_with_its_message(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```console\n$ .venv/bin/python -m evosweep task=jsonl\n"
                    "evosweep: error: task.train_path: is required: add task.train_path=path/to/file.jsonl\n"
                    "```\n")
    [command] = extract(page)
    assert command.expected_errors == (
        "evosweep: error: task.train_path: is required: add task.train_path=path/to/file.jsonl",)
    assert not check(command).errors
    wrong = Command("page.md", 1, command.text, ("evosweep: error: task.eval_path: is required",))
    assert check(wrong).errors


def test_a_broken_command_fails_the_check():
    broken = Command("page.md", 1, ".venv/bin/python -m evosweep algorithm.elite=4")
    [error] = check(broken).errors
    assert "Key 'elite' is not in struct" in error


def test_pages_include_the_readme_and_every_docs_page():
    names = {str(page.name) for page in pages()}
    assert {"README.md", "getting-started.md", "configuration.md"} <= names


def test_a_report_of_an_experiment_nothing_logs_to_fails_the_check():
    assert check(Command("page.md", 1, "python -m evosweep.report no_such_experiment")).errors
    assert not check(Command("page.md", 1, "python -m evosweep.report fr_en_exact")).errors
