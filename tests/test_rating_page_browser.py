"""reward=human_web in a real browser: a tiny run rated by clicking, text-only outputs, a phone."""

from __future__ import annotations

import contextlib
import sys
import threading
import time

import pytest
from browser import start_browser
from conftest import TINY_RUN
from rating_client import score_in_background
from scripted_rater import ScriptedTerminal, answer_for

from evosweep.rewards.rating.reward import WebHumanFeedbackReward
from evosweep.run import run
from evosweep.state.checkpoint import load_checkpoint


# two generations of a tiny run whose members answer differently (6 distinct outputs)
@pytest.fixture
def browser():
    driver = start_browser()
    yield driver
    driver.quit()


RATED_RUN = TINY_RUN + ["algorithm.population_size=4", "algorithm.generations=2",
                        "algorithm.mutation_scale=1.0"]
TEXT = "return document.getElementById(arguments[0]).textContent"
VISIBLE = "return !document.getElementById(arguments[0]).hidden"


def history_of(output_dir) -> list[dict]:
    return [{key: value for key, value in row.items() if not key.startswith("perf/")}
            for row in load_checkpoint(output_dir)["history"]]


def shown_output(driver) -> tuple[str, str] | None:
    """(prompt, output) on the card, or None while nothing waits."""
    if not driver.execute_script(VISIBLE, "card"):
        return None
    return driver.execute_script(TEXT, "prompt"), driver.execute_script(TEXT, "output")


def rate_by_clicking(driver, url: str, running: threading.Thread, timeout_s: float = 240) -> list[str]:
    """Click the rater's answer for each output shown until the run ends; the outputs rated."""
    driver.get(url)
    rated: list[str] = []
    deadline = time.monotonic() + timeout_s
    while running.is_alive() and time.monotonic() < deadline:
        shown = shown_output(driver)
        if shown is None:
            time.sleep(0.05)
            continue
        answer = answer_for(shown[1])
        button = {"y": "yes", "n": "no"}.get(answer, f"score-{answer}")
        driver.find_element("id", button).click()
        rated.append(shown[1])
        while time.monotonic() < deadline and shown_output(driver) == shown:  # the page moves on
            time.sleep(0.02)
    assert not running.is_alive(), "the run did not finish in time"
    return rated


def test_a_tiny_run_rated_by_clicking_matches_the_same_answers_typed(compose_config, tmp_path, browser,
                                                                      monkeypatch):
    typed = ScriptedTerminal()
    monkeypatch.setattr(sys, "stdin", typed)
    with contextlib.redirect_stdout(typed):
        run(compose_config(RATED_RUN + ["reward=human"]), tmp_path / "terminal")
    cfg = compose_config(RATED_RUN + ["reward=human_web", "reward.timeout_s=120"])
    from evosweep.settings import build

    built: list[WebHumanFeedbackReward] = []
    real_build = build.build_settings

    def keep_reward(config):  # the page's address is the reward's: catch the instance the run builds
        settings = real_build(config)
        built.append(settings.reward)
        return settings

    monkeypatch.setattr("evosweep.run.build_settings", keep_reward)
    errors: list[BaseException] = []

    def evolve() -> None:
        try:
            run(cfg, tmp_path / "web")
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    running = threading.Thread(target=evolve)
    running.start()
    deadline = time.monotonic() + 60
    while not (built and built[0].server) and time.monotonic() < deadline:
        time.sleep(0.05)
    clicked = rate_by_clicking(browser, built[0].url, running)
    assert not errors, errors
    assert sorted(clicked) == sorted(typed.asked)  # the same outputs, each asked once
    assert len(clicked) >= 4
    assert history_of(tmp_path / "web") == history_of(tmp_path / "terminal")
    assert len(history_of(tmp_path / "web")) == 2


@pytest.fixture
def page(tmp_path):
    reward = WebHumanFeedbackReward(timeout_s=60)
    reward.open_run(tmp_path)
    yield reward
    reward.close_run()


def wait_for_card(driver, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not driver.execute_script(VISIBLE, "card"):
        assert time.monotonic() < deadline, "no output appeared on the page"
        time.sleep(0.05)


def test_an_output_with_a_script_tag_shows_as_text(page, browser):
    hostile = "<script>alert(1)</script><b>bold</b>"
    thread, result = score_in_background(page, [hostile], ["<i>prompt</i>"])
    browser.get(page.url)
    wait_for_card(browser)
    assert browser.execute_script(TEXT, "output") == hostile
    assert browser.execute_script(TEXT, "prompt") == "<i>prompt</i>"
    parsed = "return document.querySelectorAll('#card script, #card b, #card i').length"
    assert browser.execute_script(parsed) == 0  # no element was made from the text
    with pytest.raises(Exception, match="no such alert"):
        browser.switch_to.alert.text  # noqa: B018 (reading it is the check)
    browser.find_element("tag name", "body").send_keys("n")  # the keyboard works too
    thread.join(timeout=10)
    assert result["scores"] == [0.0]


def test_keys_rate_and_arrows_move_between_outputs(page, browser):
    thread, result = score_in_background(page, ["first", "second", "third"], ["p", "p", "p"])
    browser.get(page.url)
    wait_for_card(browser)
    body = browser.find_element("tag name", "body")
    assert browser.execute_script(TEXT, "output") == "first"
    body.send_keys("\ue014")  # arrow right
    assert browser.execute_script(TEXT, "output") == "second"
    body.send_keys("7")
    deadline = time.monotonic() + 10
    while browser.execute_script(TEXT, "progress") != "2 of 3 left":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert browser.execute_script(TEXT, "output") == "third"  # the next one moves into place
    body.send_keys("y")
    deadline = time.monotonic() + 10
    while browser.execute_script(TEXT, "progress") != "1 of 3 left":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    body.send_keys("0")
    thread.join(timeout=10)
    assert result["scores"] == pytest.approx([0.0, 7 / 9, 1.0])
    deadline = time.monotonic() + 10
    while browser.execute_script(VISIBLE, "card"):  # the page waits for the next round, no reload
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "Nothing to rate" in browser.execute_script(TEXT, "waiting-text")


def test_the_page_fits_a_phone_sized_window(page, tmp_path):
    thread, _ = score_in_background(page, ["a fairly long answer " * 12], ["Translate to English: chat"])
    phone = start_browser(390, 844)
    try:
        phone.get(page.url)
        wait_for_card(phone)
        assert phone.execute_script("return window.innerWidth") == 390
        width = phone.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390  # no sideways scrolling
        for button in ("yes", "no", "score-0", "score-9"):
            box = phone.execute_script(
                "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
                "return [r.left, r.right, r.height]", button)
            assert box[0] >= 0 and box[1] <= 390 and box[2] >= 40, (button, box)  # on screen, thumb-sized
        assert phone.save_screenshot(str(tmp_path / "phone.png"))
        phone.find_element("id", "yes").click()
        thread.join(timeout=10)
    finally:
        phone.quit()
    assert not thread.is_alive()
