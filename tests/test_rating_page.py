"""reward=human_web over HTTP: the token, bad requests, timeouts, pairwise scores, ratings.jsonl."""

from __future__ import annotations

import json

import pytest
from rating_client import RatingClient, score_in_background
from scripted_rater import preferred

from evosweep.errors import ConfigError, RewardError
from evosweep.rewards.rating.pairwise import bradley_terry, choose_pairs
from evosweep.rewards.rating.reward import WebHumanFeedbackReward


@pytest.fixture
def page(tmp_path):
    reward = WebHumanFeedbackReward(timeout_s=30)
    reward.open_run(tmp_path)
    yield reward, RatingClient(reward.server.base_url, reward.token)
    reward.close_run()


def test_a_wrong_or_missing_token_gets_403_and_rates_nothing(page, tmp_path):
    reward, client = page
    thread, result = score_in_background(reward, ["one", "two"])
    state = client.wait_for_items()
    item = state["items"][0]
    for token in ("", "not-the-token", reward.token[:-1]):
        assert client.request("", token=token)[0] == 403  # the page itself
        assert client.request("api/state", token=token)[0] == 403
        body = {"round": state["round"], "id": item["id"], "answer": "y"}
        assert client.request("api/rate", body, token=token)[0] == 403
    assert client.state()["left"] == 2
    assert not (tmp_path / "ratings.jsonl").exists()
    for item in state["items"]:
        client.rate(state, item, answer="y")
    thread.join(timeout=10)
    assert result["scores"] == [1.0, 1.0]


@pytest.mark.parametrize("body,status", [
    (b"{not json", 400), (b"[1, 2]", 400), (b"x" * 10_000, 413),
    ({"round": 1, "id": 0, "answer": "maybe"}, 400), ({"round": 1, "id": 0, "answer": "y" * 5000}, 413),
    ({"round": 1, "id": 0, "answer": 7}, 400), ({"round": 1, "id": "0", "answer": "y"}, 409),
    ({"round": 99, "id": 0, "answer": "y"}, 409), ({"round": 1, "id": 99, "answer": "y"}, 409),
    ({"round": 1, "id": 0, "winner": "a"}, 400),
])
def test_malformed_or_oversized_requests_get_a_4xx_and_change_nothing(page, tmp_path, body, status):
    reward, client = page
    thread, result = score_in_background(reward, ["one"])
    client.wait_for_items()
    assert client.request("api/rate", body)[0] == status
    assert client.state()["left"] == 1
    assert not (tmp_path / "ratings.jsonl").exists()
    state = client.state()
    client.rate(state, state["items"][0], answer="3")
    thread.join(timeout=10)
    assert result["scores"] == [pytest.approx(3 / 9)]


def test_every_rating_is_on_disk_as_it_arrives_and_a_new_reward_reuses_them(page, tmp_path):
    reward, client = page
    thread, _ = score_in_background(reward, ["kept", "also kept"], ["p", "p"])
    state = client.wait_for_items()
    client.rate(state, state["items"][0], answer="n")
    lines = (tmp_path / "ratings.jsonl").read_text().splitlines()
    assert [json.loads(line)["output"] for line in lines] == ["kept"]  # before the round is over
    client.rate(state, state["items"][1], answer="9")
    thread.join(timeout=10)
    again = WebHumanFeedbackReward(timeout_s=0.5)
    again.open_run(tmp_path)
    try:
        assert again(["also kept", "kept"], ["r", "r"], ["p", "p"]) == [1.0, 0.0]  # nothing asked
    finally:
        again.close_run()


def test_a_line_cut_short_by_a_kill_is_asked_again_and_other_damage_is_named(tmp_path):
    path = tmp_path / "ratings.jsonl"
    path.write_text('{"kind": "score", "prompt": "p", "output": "a", "score": 1.0}\n{"kind": "sco')
    reward = WebHumanFeedbackReward()
    reward.open_run(tmp_path)
    reward.close_run()
    assert reward.ratings.scores == {("p", "a"): 1.0}
    path.write_text('garbage\n{"kind": "score", "prompt": "p", "output": "a", "score": 1.0}\n')
    with pytest.raises(RewardError, match=r"ratings.jsonl:1: not a rating"):
        WebHumanFeedbackReward().open_run(tmp_path)


def test_no_rating_within_timeout_s_stops_with_a_clear_error(tmp_path):
    reward = WebHumanFeedbackReward(timeout_s=0.3)
    reward.open_run(tmp_path)
    try:
        with pytest.raises(RewardError, match=r"reward.timeout_s: 2 of 2 outputs were not rated within 0.3"):
            reward(["a", "b"], ["r", "r"])
    finally:
        reward.close_run()


@pytest.mark.parametrize("kwargs,field", [
    ({"mode": "stars"}, "reward.mode"), ({"port": 70000}, "reward.port"),
    ({"comparisons": 0}, "reward.comparisons"), ({"timeout_s": 0}, "reward.timeout_s"),
])
def test_bad_settings_name_the_field(kwargs, field):
    with pytest.raises(ConfigError) as error:
        WebHumanFeedbackReward(**kwargs)
    assert error.value.field == field


def test_a_port_in_use_names_reward_port(page, tmp_path):
    reward, _ = page
    with pytest.raises(ConfigError, match="reward.port: cannot serve the rating page"):
        WebHumanFeedbackReward(port=reward.server.port).open_run(tmp_path)


def test_pairwise_scores_the_output_the_rater_prefers_higher(tmp_path):
    reward = WebHumanFeedbackReward(mode="pairwise", comparisons=6, timeout_s=30)
    reward.open_run(tmp_path)
    client = RatingClient(reward.server.base_url, reward.token)
    outputs = ["a much longer answer", "short", "medium one", "x"]
    try:
        thread, result = score_in_background(reward, outputs + ["other prompt alone"], ["p"] * 4 + ["q"])
        asked = 0
        while thread.is_alive() or asked == 0:
            state = client.wait_for_items(alive=thread.is_alive) if thread.is_alive() else client.state()
            for item in state["items"]:
                client.rate(state, item, winner=preferred(item["a"], item["b"]))
                asked += 1
            thread.join(timeout=0.2)
        scores = dict(zip(outputs + ["other prompt alone"], result["scores"], strict=True))
    finally:
        reward.close_run()
    assert asked == 6  # the comparisons setting: pairs of one prompt only
    assert scores["x"] > scores["short"] > scores["medium one"] > scores["a much longer answer"]
    assert scores["other prompt alone"] == pytest.approx(0.5)


def test_bradley_terry_orders_by_wins_and_keeps_unseen_outputs_at_one_half():
    scores = bradley_terry(["a", "b", "c", "d"], [("a", "b", "a"), ("b", "c", "b"), ("a", "c", "a")])
    assert scores["a"] > scores["b"] > scores["c"]
    assert scores["d"] == pytest.approx(0.5)
    assert all(0 < value < 1 for value in scores.values())


def test_pairs_first_cover_every_output_then_skip_those_already_compared():
    import random

    pairs = choose_pairs({"p": ["a", "b", "c", "d"], "q": ["x", "y"]}, 5, random.Random(0))
    assert len(pairs) == 5
    assert {output for _, a, b in pairs for output in (a, b)} == {"a", "b", "c", "d", "x", "y"}
    again = choose_pairs({"p": ["a", "b"]}, 3, random.Random(0), [("p", "b", "a", "a")])
    assert again == []  # the only pair was already compared
