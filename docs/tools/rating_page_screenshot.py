"""Screenshots of reward=human_web's rating page for docs/rewards.md.

Not part of evosweep. Serves the page with a few answers SmolLM2-135M gave on
fr_en (taken from a run's ratings.jsonl) and saves, with headless Chromium and
chromium-driver (Debian packages) through Selenium:

    .venv/bin/python docs/tools/rating_page_screenshot.py docs/img

``rating_page.png`` (score mode, 1000 px wide), ``rating_page_phone.png`` (390 px)
and ``rating_page_pairwise.png`` (pairwise mode, 390 px).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from evosweep.errors import RewardError
from evosweep.rewards.rating.reward import WebHumanFeedbackReward

PROMPT = "Translate this French to English, answer with the English only: {}"
ANSWERS = [("matin", "morning", "morning"),
           ("grand", "big", "The French language is a language of the French language."),
           ("oui", "yes", "Yes")]


def browser(width: int, height: int) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500})
    return driver


def shoot(reward: WebHumanFeedbackReward, completions: list[str], prompts: list[str], references: list[str],
          shots: list[tuple[int, int, Path]]) -> None:
    """Show ``completions`` on the page and save one screenshot per (width, height, path)."""
    def wait_for_ratings() -> None:
        with contextlib.suppress(RewardError):  # the page closes unrated once the shots are taken
            reward(completions, references, prompts)

    thread = threading.Thread(target=wait_for_ratings, daemon=True)
    thread.start()
    reward.set_stage("generation 3")
    for width, height, path in shots:
        driver = browser(width, height)
        driver.get(reward.url)
        while not driver.execute_script("return !document.getElementById('card').hidden"):
            time.sleep(0.05)
        driver.save_screenshot(str(path))
        driver.quit()
        print(path)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    prompts = [PROMPT.format(word) for word, _, _ in ANSWERS]
    references = [reference for _, reference, _ in ANSWERS]
    score = WebHumanFeedbackReward(timeout_s=60)
    shoot(score, [answer for _, _, answer in ANSWERS], prompts, references,
          [(1000, 640, out / "rating_page.png"), (390, 844, out / "rating_page_phone.png")])
    score.close_run()
    pairwise = WebHumanFeedbackReward(mode="pairwise", timeout_s=60)
    shoot(pairwise, ["Great", "big"], prompts[1:2] * 2, references[1:2] * 2,
          [(390, 844, out / "rating_page_pairwise.png")])
    pairwise.close_run()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img"))
