"""The Content-Security-Policy in a real browser: every page renders and nothing is blocked."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.test_signin import sign_in

pytestmark = pytest.mark.browser

PAGES = ["/", "/calls", "/recordings", "/sms", "/reports", "/sources", "/syncs", "/team"]


def _violations(driver, errors: list[str] | None = None) -> list[str]:
    """CSP violations in the console since the last call; other errors go to `errors`."""
    found = []
    for entry in driver.get_log("browser"):
        if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]:
            found.append(entry["message"])
        elif errors is not None and entry["level"] == "SEVERE":
            errors.append(entry["message"])
    return found


def test_every_page_renders_under_the_policy(browser, live_server, app_world):
    sign_in(browser, live_server, "admin_a@example.com")
    WebDriverWait(browser, 15).until(EC.presence_of_element_located((By.ID, "sidebar")))
    browser.get_log("browser")
    for path in PAGES:
        browser.get(live_server + path)
        WebDriverWait(browser, 15).until(EC.presence_of_element_located((By.ID, "sidebar")))
        WebDriverWait(browser, 15).until(
            lambda d: d.execute_script(
                "return !document.querySelector('[data-dash-is-loading=\"true\"]')"
            )
        )
        errors: list[str] = []
        assert _violations(browser, errors) == [], path
        # e.g. the renderer's "ID not found in layout" when the validation layout lacks a page
        assert errors == [], path
    browser.get(live_server + "/")
    WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".js-plotly-plot .main-svg"))
    )
    assert _violations(browser) == []


def test_an_injected_inline_script_is_blocked(browser, live_server, app_world):
    sign_in(browser, live_server, "admin_a@example.com")
    WebDriverWait(browser, 15).until(EC.presence_of_element_located((By.ID, "sidebar")))
    browser.execute_script(
        "var s = document.createElement('script'); s.textContent = 'window.__pwned = 1';"
        "document.body.appendChild(s);"
    )
    assert browser.execute_script("return window.__pwned") is None
    seen: list[str] = []
    WebDriverWait(browser, 5).until(lambda d: seen.extend(_violations(d)) or seen)
    assert "script-src" in seen[0], seen


HOSTILE = '<a href="https://evil.example/steal">Eve</a>'


def test_html_in_agent_names_and_number_labels_is_shown_as_text(
    browser, live_server, app_world, sqlite_db
):
    from models.orgs import PhoneNumber, User
    from tests.models.test_kpis import add_analytics

    add_analytics(sqlite_db, app_world)
    with sqlite_db.session() as s:
        s.get(User, app_world.users["agent_a1"]).name = HOSTILE
        s.get(PhoneNumber, app_world.numbers["a1"]).label = "<b>bold</b> %{x}"
        s.commit()
    sign_in(browser, live_server, "manager_a@example.com")
    WebDriverWait(browser, 15).until(EC.presence_of_element_located((By.ID, "kpi-total-value")))
    browser.get(live_server + "/?range=custom&from=2026-03-01&to=2026-03-07")
    for chart in ("overview-chart-agents", "overview-chart-numbers"):
        WebDriverWait(browser, 20).until(
            EC.presence_of_element_located((By.CSS_SELECTOR, f"#{chart} .ytick text"))
        )
    ticks = [
        t.get_attribute("textContent")
        for t in browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .ytick text")
    ]
    assert HOSTILE in ticks, ticks
    assert any(t.startswith("<b>bold</b> %{x}") for t in ticks), ticks
    links = browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot a")
    assert [link.get_attribute("href") for link in links] == []
    assert browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .ytick text b") == []
