"""The sync console in headless Chromium: add and test a connection, sync it from the modal,
watch the progress bar and the toast, find the run in the history, and check that an idle
page sends no callback requests."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from pages._sync_modal import POLL_MS
from tests.browser.conftest import screenshot
from tests.browser.test_signin import sign_in
from tests.helpers import make_connection, run_sync

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]

SYNC_OPEN = '[id*=\'"type":"sync-open"\']'
#: A drawn row of the sync history's record grid (not one of its "loading" placeholders).
HISTORY_ROW = "#syncs-table .ag-center-cols-container .ag-row:not(.ag-row-loading)"

# Records every label the run progress bars show, so a test can tell that one reached 100 %.
WATCH_BARS = """
window.__barLabels = [];
const seen = () => document.querySelectorAll('.run-bar .progress-bar').forEach(bar => {
  const text = bar.textContent.trim();
  if (text && window.__barLabels[window.__barLabels.length - 1] !== text) {
    window.__barLabels.push(text);
  }
});
new MutationObserver(seen).observe(document.body,
  {subtree: true, childList: true, attributes: true, characterData: true});
seen();
"""

# Counts callback requests from now on (wrapping whatever fetch the page already has).
COUNT_CALLBACKS = """
window.__callbacks = 0;
const original = window.fetch;
window.fetch = function (...args) {
  const url = String(args[0] && args[0].url ? args[0].url : args[0]);
  if (url.includes('_dash-update-component')) { window.__callbacks += 1; }
  return original.apply(this, args);
};
"""


def settle(browser, quiet: float = 0.6, seconds: float = 15) -> None:
    """Wait until no callback is in flight and none has started for `quiet` seconds."""
    script = "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length"
    deadline = time.monotonic() + seconds
    calm_since = None
    while time.monotonic() < deadline:
        busy = browser.execute_script(script)
        now = time.monotonic()
        if busy:
            calm_since = None
        elif calm_since is None:
            calm_since = now
        elif now - calm_since >= quiet:
            return
        time.sleep(0.1)


def wait(browser, seconds: float = 15) -> WebDriverWait:
    """A wait that retries when Dash re-renders the element it was reading (stale)."""
    return WebDriverWait(browser, seconds, ignored_exceptions=(StaleElementReferenceException,))


def visible(browser, css: str, seconds: float = 15):
    return wait(browser, seconds).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def open_sources(browser, base: str) -> None:
    browser.get(base + "/sources")
    visible(browser, "#sources-grid > .source-card, #sources-empty")


def keep_screenshot(browser, name: str) -> None:
    """A 1400×900 viewport into SYNCBOARD_SCREENSHOTS (when set), and, with
    SYNCBOARD_README_SHOTS=1 too, into docs/screenshots for the README."""
    import os

    metrics = {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        time.sleep(0.3)
        screenshot(browser, name)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    folder = os.environ.get("SYNCBOARD_SCREENSHOTS")
    if folder and os.environ.get("SYNCBOARD_README_SHOTS"):
        shutil.copy(Path(folder) / f"{name}.png", ROOT / "docs" / "screenshots" / f"{name}.png")


def test_admin_adds_tests_and_syncs_a_connection(browser, live_server, app_world):
    sign_in(browser, live_server, "admin_a@example.com")
    visible(browser, "#sidebar")
    assert "Sources" in browser.find_element(By.ID, "sidebar").text
    open_sources(browser, live_server)
    assert "No sources yet" in browser.find_element(By.ID, "sources-grid").text

    # Add a demo connection, testing it first.
    browser.find_element(By.ID, "sources-add-open").click()
    visible(browser, "#sources-add-name").send_keys("Demo CRM")
    assert Select(browser.find_element(By.ID, "sources-add-connector")).first_selected_option
    # The demo's own settings are shown, as fields; no connector's secret box is.
    records = visible(browser, '[id*=\'"connector":"demo","name":"records"\']')
    assert records.get_attribute("type") == "number"
    secrets = browser.find_elements(By.CSS_SELECTOR, "#sources-add-modal input[type=password]")
    assert secrets and not any(box.is_displayed() for box in secrets)
    browser.find_element(By.ID, "sources-add-test").click()
    alert = visible(browser, "#connection-test-alert", 30)
    screenshot(browser, "console-add-connection")
    assert "Demo data is ready: 2,000 records per stream." in alert.text
    assert "alert-success" in alert.get_attribute("class")
    browser.find_element(By.ID, "sources-add-save").click()
    wait(browser).until(EC.invisibility_of_element_located((By.ID, "sources-add-modal")))
    card = visible(browser, "[id^='source-card-']")
    assert "Demo CRM" in card.text and "never synced" in card.text and "Demo data" in card.text

    # Sync it from the modal and follow the progress bar to the toast.
    browser.execute_script(WATCH_BARS)
    card.find_element(By.CSS_SELECTOR, SYNC_OPEN).click()
    command = visible(browser, "#syncmodal-command")
    wait(browser).until(lambda b: "syncboard sync alpha" in command.text)
    assert command.text == "syncboard sync alpha 'Demo CRM'"
    screenshot(browser, "console-sync-modal")
    browser.find_element(By.CSS_SELECTOR, "label[for*='syncmodal-flags'], #syncmodal-flags")
    start = browser.find_element(By.ID, "syncmodal-start")
    assert start.is_enabled()
    start.click()
    visible(browser, "[id^='source-card-'] .run-bar", 10)
    toast = visible(browser, ".sync-toast", 60)
    assert "Sync of Demo CRM finished: success, 4,000 records" in toast.text
    screenshot(browser, "console-toast")
    labels = browser.execute_script("return window.__barLabels")
    assert "100 %" in labels, labels
    assert labels[0] != "100 %", labels  # the bar was seen while the run was active
    wait(browser).until(
        lambda b: "success" in b.find_element(By.CSS_SELECTOR, "[id^='source-card-']").text
    )
    card = browser.find_element(By.CSS_SELECTOR, "[id^='source-card-']")
    assert "just now" in card.text
    assert not browser.find_elements(By.CSS_SELECTOR, "[id^='source-card-'] .run-bar")
    interval_off = browser.execute_script(
        "return document.querySelectorAll('.run-bar').length === 0"
    )
    assert interval_off

    # The run is in the history; its page tells what it did.
    browser.find_element(By.ID, "sources-all-syncs").click()
    visible(browser, HISTORY_ROW)

    def first_row(b) -> str:  # read in one script: the grid may redraw its rows meanwhile
        return b.execute_script(
            "const row = document.querySelector(arguments[0]); return row ? row.innerText : ''",
            HISTORY_ROW,
        )

    wait(browser).until(lambda b: "success" in first_row(b))
    text = first_row(browser)
    assert "Demo CRM" in text and "4,000" in text and "user" in text
    screenshot(browser, "console-history")
    link = wait(browser).until(
        EC.element_to_be_clickable((By.CSS_SELECTOR, f"{HISTORY_ROW} [col-id='run'] a"))
    )
    browser.execute_script("arguments[0].click()", link)
    title = visible(browser, "#run-title")
    assert title.text.startswith("Run #") and "success" in title.text
    assert browser.find_element(By.ID, "run-command").text == "syncboard sync alpha 'Demo CRM'"
    assert browser.find_element(By.ID, "run-processed").text == "4,000"
    assert not browser.find_elements(By.ID, "run-retry")  # a successful run: nothing to retry
    screenshot(browser, "console-run")

    # The source's page lists its streams with the records we now hold.
    browser.find_element(By.CSS_SELECTOR, "#run-body a[href^='/sources/']").click()
    row = visible(browser, "#stream-row-contacts")
    assert "2,000" in row.text and "success" in row.text
    screenshot(browser, "console-source")


def test_a_connectors_settings_are_fields_checked_with_messages_beside_them(
    browser, live_server, app_world
):
    sign_in(browser, live_server, "admin_a@example.com")
    visible(browser, "#sidebar")  # signed in: /sources would otherwise bounce to the login
    open_sources(browser, live_server)
    browser.find_element(By.ID, "sources-add-open").click()
    visible(browser, "#sources-add-name").send_keys("Phones")
    Select(browser.find_element(By.ID, "sources-add-connector")).select_by_value("mightycall")
    api_key = visible(browser, '[id*=\'"connector":"mightycall","name":"token"\']')
    user_key = browser.find_element(
        By.CSS_SELECTOR, '[id*=\'"connector":"mightycall","name":"secret"\']'
    )
    assert api_key.get_attribute("type") == user_key.get_attribute("type") == "password"
    api_key.send_keys("mc-api-key")
    # Checked as it is typed: the missing key is named beside its field, Save waits.
    assert not browser.find_element(By.ID, "sources-add-save").is_enabled()
    feedback = visible(
        browser, '.invalid-feedback[id*=\'"connector":"mightycall","name":"secret"\']'
    )
    assert feedback.text == "Enter the User key."
    assert "is-invalid" in user_key.get_attribute("class")
    assert "is-invalid" not in api_key.get_attribute("class")
    screenshot(browser, "console-settings-invalid")


def test_an_idle_sources_page_sends_no_callbacks(browser, live_server, app_world, sqlite_db):
    conn = make_connection(
        sqlite_db, app_world.org_a, "demo", name="Demo CRM", settings={"records": 30, "delay_ms": 0}
    )
    run_sync(conn)
    sign_in(browser, live_server, "manager_a@example.com")
    visible(browser, "#sidebar")
    open_sources(browser, live_server)
    card = visible(browser, "[id^='source-card-']")
    assert "success" in card.text
    assert not browser.find_elements(By.CSS_SELECTOR, SYNC_OPEN)  # managers see status only
    settle(browser)
    browser.execute_script(COUNT_CALLBACKS)
    browser.find_element(By.ID, "sources-refresh").click()  # the counter does count
    wait(browser, 5).until(lambda b: b.execute_script("return window.__callbacks") >= 1)
    settle(browser)
    settled = browser.execute_script("return window.__callbacks")
    # Four poll periods: a page that polled while idle would have sent a callback by now.
    time.sleep(4 * POLL_MS / 1000)
    assert browser.execute_script("return window.__callbacks") == settled


def test_readme_screenshots(browser, live_server, app_world, sqlite_db):
    """A sources page with every health, and a run in progress (docs/screenshots)."""
    from models.sync import SyncRun

    org = app_world.org_a
    done = make_connection(
        sqlite_db, org, "demo", name="Demo CRM", settings={"records": 300, "delay_ms": 0}
    )
    run_sync(done)
    slow = make_connection(
        sqlite_db,
        org,
        "demo",
        name="Call centre",
        settings={"records": 3000, "delay_ms": 250},
        schedule_minutes=30,
    )
    partial = make_connection(
        sqlite_db, org, "demo", name="Field reports", settings={"records": 50, "delay_ms": 0}
    )
    run = run_sync(partial, "contacts")
    with sqlite_db.session() as s:
        stored = s.get(SyncRun, run.id)
        stored.status, stored.failed = "partial", 3
        stored.finished_at = stored.finished_at.replace(hour=max(stored.finished_at.hour - 2, 0))
        s.commit()
    make_connection(sqlite_db, org, "hubspot", name="Sales HubSpot", token="not-shown")

    sign_in(browser, live_server, "admin_a@example.com")
    visible(browser, "#sidebar")
    open_sources(browser, live_server)
    card = visible(browser, f"#source-card-{slow.id}")
    card.find_element(By.CSS_SELECTOR, SYNC_OPEN).click()
    visible(browser, "#syncmodal-start").click()
    wait(browser, 20).until(
        lambda b: re.search(r"[1-9]\d? %", b.find_element(By.ID, f"source-card-{slow.id}").text)
    )
    keep_screenshot(browser, "sources")

    with sqlite_db.session() as s:
        run_id = s.query(SyncRun.id).filter_by(connection_id=slow.id).scalar()
    browser.get(f"{live_server}/syncs/{run_id}")
    visible(browser, "#run-title")
    wait(browser, 20).until(
        lambda b: re.search(r"[1-9]\d? %", b.find_element(By.ID, "run-body").text)
    )
    settle(browser)
    keep_screenshot(browser, "sync-progress")
    with sqlite_db.session() as s:
        from models.orgs import User
        from models.runs import request_cancel
        from models.scope import build_viewer

        viewer = build_viewer(s, s.get(User, app_world.users["admin_a"]), org)
        request_cancel(s, viewer, run_id)
        s.commit()
    wait(browser, 30).until(lambda b: "cancelled" in b.find_element(By.ID, "run-title").text)
