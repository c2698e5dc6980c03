"""Human feedback, driven by feeding answers on stdin."""

from __future__ import annotations

import io

import pytest
from test_rewards_runs import SHORT, run_in_range

from evosweep.errors import RewardError
from evosweep.rewards.human import HumanFeedbackReward, parse_answer


@pytest.mark.parametrize("answer,score", [("y", 1.0), ("YES\n", 1.0), (" n ", 0.0), ("no", 0.0),
                                          ("0", 0.0), ("9", 1.0), ("3", 3 / 9)])
def test_answers_map_to_scores(answer, score):
    assert parse_answer(answer) == pytest.approx(score)


@pytest.mark.parametrize("answer", ["", "maybe", "10", "-1", "0.5"])
def test_non_answers_are_rejected(answer):
    assert parse_answer(answer) is None


def test_each_distinct_output_is_shown_once_and_scored_from_stdin(monkeypatch):
    shown = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO("y\nwhat?\n4\n"))
    monkeypatch.setattr("sys.stdout", shown)
    reward = HumanFeedbackReward()
    scores = reward(["hi", "bye", "hi", "hi"], ["hello"] * 4, ["Greet:"] * 4)
    assert scores == pytest.approx([1.0, 4 / 9, 1.0, 1.0])
    text = shown.getvalue()
    assert "2 distinct outputs" in text
    assert text.count("output:    hi") == 1 and text.count("output:    bye") == 1
    assert "'what?' is not y, n or a digit" in text
    assert "reference: hello" in text


def test_answers_are_remembered_across_generations_unless_disabled():
    answers = io.StringIO("n\n7\n")
    reward = HumanFeedbackReward(input_stream=answers, output_stream=io.StringIO())
    assert reward(["a"], ["r"], ["p"]) == [0.0]
    assert reward(["a", "b"], ["r", "r"], ["p", "p"]) == pytest.approx([0.0, 7 / 9])  # only 'b' asked
    forgetful = HumanFeedbackReward(remember=False, input_stream=io.StringIO("y\ny\n"),
                                    output_stream=io.StringIO())
    forgetful(["a"], ["r"], ["p"])
    assert forgetful(["a"], ["r"], ["p"]) == [1.0]  # asked again: the second 'y' was read


def test_closed_input_stops_with_a_clear_error():
    reward = HumanFeedbackReward(input_stream=io.StringIO("y\n"), output_stream=io.StringIO())
    with pytest.raises(RewardError, match="input closed"):
        reward(["a", "b"], ["r", "r"])


def test_short_run_with_a_person_answering_on_stdin(compose_config, tmp_path, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{1 + i % 9}\n" for i in range(500))))
    history = run_in_range(compose_config(SHORT + ["reward=human"]), tmp_path)
    assert history[-1]["fitness/best"] > 0.0
