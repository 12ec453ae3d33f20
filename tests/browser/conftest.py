"""Headless Chromium driven by Selenium, with the Debian chromium and chromedriver."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import unavailable

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1400,900",
]


def _binary(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (name if Path(name).exists() else None)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chrome():
    chromium = _binary("/usr/bin/chromium", "chromium", "chromium-browser")
    driver_path = _binary("/usr/bin/chromedriver", "chromedriver")
    if not chromium or not driver_path:
        unavailable("Chromium", "install the Debian packages chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    profile = tempfile.mkdtemp(prefix="syncboard-chrome-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(chrome, live_server):
    """A signed-out browser pointed at the live server."""
    chrome.delete_all_cookies()
    chrome.get(live_server + "/login")
    chrome.delete_all_cookies()
    return chrome


def screenshot(driver, name: str) -> None:
    """Keep a PNG of what the page looks like when SYNCBOARD_SCREENSHOTS names a folder."""
    folder = os.environ.get("SYNCBOARD_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))
