"""Headless Chromium driven by Selenium, with the Debian chromium and chromedriver.

Also the accessibility check: `run_axe(driver)` injects npm's axe-core (pinned in
tests/browser/package.json, installed into tests/browser/node_modules on first use) and
returns the critical and serious violations on the page; `axe_report` words them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import unavailable

HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
SEVERE_IMPACTS = ("critical", "serious")
#: The widths every page is walked at: desktop, tablet, phone.
WIDTHS = (1440, 1024, 390)

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


# --- widths ---------------------------------------------------------------------------------


def set_width(driver, width: int, height: int = 900) -> None:
    """Make the page `width` CSS pixels wide (window.innerWidth), as a window of that size."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return window.innerWidth")
    if inner != width:  # the window's frame takes some pixels in some Chromium builds
        driver.set_window_size(2 * width - inner, height)


@pytest.fixture
def window_width(chrome) -> Iterator[Callable[[int], None]]:
    """A setter for the page width (e.g. `window_width(390)`); restores the default after."""
    yield lambda width: set_width(chrome, width)
    chrome.set_window_size(1400, 900)


# --- axe-core -------------------------------------------------------------------------------

_axe_source: str | None = None


def axe_source() -> str:
    """axe.min.js, installed with `npm ci --prefix tests/browser` the first time it is needed."""
    global _axe_source
    if _axe_source is None:
        if not AXE_JS.exists():
            npm = shutil.which("npm")
            if npm is None:
                unavailable("npm", "install Node.js and npm to fetch axe-core (tests/browser)")
            subprocess.run(
                [npm, "ci", "--prefix", str(HERE), "--no-audit", "--no-fund"],
                check=True,
                capture_output=True,
                timeout=300,
            )
        _axe_source = AXE_JS.read_text()
    return _axe_source


AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map(n => ({target: n.target, html: n.html.slice(0, 200)}))}))))
  .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), helpUrl: '',
                     nodes: []}]));
"""


def run_axe(driver) -> list[dict]:
    """The critical and serious axe-core violations on the current page.

    Each is {"id", "impact", "help", "helpUrl", "nodes": [{"target", "html"}]}. The script
    is evaluated by the driver, which the page's Content-Security-Policy does not govern.
    """
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_source())
    driver.set_script_timeout(60)
    violations = driver.execute_async_script(AXE_RUN)
    return [v for v in violations if v["impact"] in SEVERE_IMPACTS]


def _selector(target: list) -> str:
    """axe's target: selectors, nested lists for shadow roots and frames."""
    return " >> ".join(t if isinstance(t, str) else _selector(t) for t in target)


def axe_report(violations_by_page: dict[str, list[dict]]) -> str:
    """One readable block per page: rule, impact, help, and the selectors of what failed."""
    lines = []
    for page, violations in violations_by_page.items():
        if not violations:
            continue
        lines.append(f"{page}:")
        for v in violations:
            targets = ", ".join(_selector(n["target"]) for n in v["nodes"][:6])
            more = f" (+{len(v['nodes']) - 6} more)" if len(v["nodes"]) > 6 else ""
            lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} -> {targets}{more}")
    return "\n".join(lines)
