"""Headless Chromium from the Debian packages, driven by Selenium (tests only).

Skipped where chromium or chromedriver is missing, unless ``EVOSWEEP_REQUIRE_BROWSER=1``
(CI sets it: there a missing browser is a failure, not a skip).
"""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def start_browser(width: int = 1000, height: int = 800):
    """A headless Chromium window of ``width`` x ``height`` CSS pixels."""
    if not (CHROMIUM and CHROMEDRIVER):
        message = "needs chromium and chromium-driver (apt-get install chromium chromium-driver)"
        if os.environ.get("EVOSWEEP_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager reach out
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--force-device-scale-factor=1", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    # headless windows are at least 500 px wide: a phone's width is emulated, as DevTools does
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500})
    return driver

