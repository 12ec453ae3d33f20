"""The overview in headless Chromium: filters in the URL, clicks on charts, agents' scope.

Screenshots (with SYNCBOARD_SCREENSHOTS=/some/dir): overview-week, overview-day-click,
overview-cell, overview-custom-range, overview-agent, overview-empty, overview-demo.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import screenshot
from tests.browser.test_signin import sign_in
from tests.models.test_kpis import add_analytics

pytestmark = pytest.mark.browser

WEEK = "?range=custom&from=2026-03-01&to=2026-03-07"


def wait_text(browser, element_id: str, text: str, timeout: float = 15) -> None:
    WebDriverWait(browser, timeout).until(
        EC.text_to_be_present_in_element((By.ID, element_id), text)
    )
    WebDriverWait(browser, timeout).until(lambda b: b.find_element(By.ID, element_id).text == text)


def query(browser) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(browser.current_url).query).items()}


def wait_query(browser, **expected) -> None:
    WebDriverWait(browser, 15).until(lambda b: query(b) == expected)


def open_overview(browser, base: str, email: str, search: str = "") -> None:
    sign_in(browser, base, email)
    # Generous: a first load on a busy 2-core machine can take longer than 15 s.
    WebDriverWait(browser, 30).until(EC.presence_of_element_located((By.ID, "kpi-total-value")))
    if search:
        browser.get(base + "/" + search)
        WebDriverWait(browser, 30).until(EC.presence_of_element_located((By.ID, "kpi-total-value")))


def retry_click(browser, click, reached, attempts: int = 3) -> bool:
    """Click on a chart until the URL shows `reached(query)`: a plot still settling from
    its first render (or a busy machine) can swallow a click."""
    for _ in range(attempts):
        try:
            click()
            WebDriverWait(browser, 8).until(lambda b: reached(query(b)))
            return True
        except (TimeoutException, WebDriverException):  # also: re-rendered under the mouse
            continue
    return False


def wait_for_chart(browser, chart_id: str) -> None:
    WebDriverWait(browser, 15).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, f"#{chart_id} .main-svg"))
    )


def test_range_change_updates_cards_and_url(browser, live_server, app_world, sqlite_db):
    add_analytics(sqlite_db, app_world)
    open_overview(browser, live_server, "manager_a@example.com", WEEK)
    wait_text(browser, "kpi-total-value", "6")
    wait_text(browser, "kpi-sla-breaches-value", "2")
    assert browser.find_element(By.ID, "kpi-answered-delta").text == "▲ 300.0%"
    assert "good" in browser.find_element(By.ID, "kpi-answered-delta").get_attribute("class")
    assert "bad" in browser.find_element(By.ID, "kpi-sla-breaches-delta").get_attribute("class")
    wait_for_chart(browser, "overview-chart-days")
    screenshot(browser, "overview-week")

    browser.find_element(
        By.XPATH, "//*[@id='overview-range']//label[normalize-space()='30 days']"
    ).click()
    wait_query(browser, range="30")
    wait_text(browser, "kpi-total-value", "9")  # the world's calls of the last hours
    assert not browser.find_element(By.ID, "overview-dates-wrap").is_displayed()


def test_clicking_a_day_bar_opens_that_day(browser, live_server, app_world, sqlite_db):
    add_analytics(sqlite_db, app_world)
    open_overview(browser, live_server, "manager_a@example.com", WEEK)
    wait_text(browser, "kpi-total-value", "6")
    wait_for_chart(browser, "overview-chart-days")

    def click_first_bar() -> None:
        bars = browser.find_elements(By.CSS_SELECTOR, "#overview-chart-days .bars path")
        first = next(b for b in bars if b.size["height"] > 0)  # 1 March, answered (c7)
        ActionChains(browser).move_to_element(first).click().perform()

    clicked = retry_click(browser, click_first_bar, lambda q: q.get("to") == "2026-03-01")
    assert clicked, "the click on the day's bar never reached the URL"
    wait_query(browser, range="custom", **{"from": "2026-03-01", "to": "2026-03-01"})
    wait_text(browser, "kpi-total-value", "1")
    wait_text(browser, "overview-chart-days-title", "Calls per hour")
    assert browser.find_element(By.ID, "overview-dates-wrap").is_displayed()
    screenshot(browser, "overview-day-click")

    browser.back()  # the previous view comes back from the URL
    wait_query(browser, range="custom", **{"from": "2026-03-01", "to": "2026-03-07"})
    wait_text(browser, "kpi-total-value", "6")


def test_clicking_a_heatmap_cell_sets_a_removable_filter(
    browser, live_server, app_world, sqlite_db
):
    add_analytics(sqlite_db, app_world)
    open_overview(browser, live_server, "manager_a@example.com", WEEK)
    wait_text(browser, "kpi-total-value", "6")
    wait_for_chart(browser, "overview-chart-heatmap")

    # Monday 09:00 holds three calls: click the middle of that cell, placed by the plot's axes.
    def click_cell() -> None:
        selector = "#overview-chart-heatmap .js-plotly-plot"
        WebDriverWait(browser, 10).until(
            lambda b: b.find_element(By.CSS_SELECTOR, selector).size["width"] > 0
        )
        plot = browser.find_element(By.CSS_SELECTOR, selector)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", plot)
        # Cards and charts still arriving move the plot; Chrome then sends the mouse a
        # synthetic move, and the click lands on another row. Wait for the page to settle.
        where = "const r = arguments[0].getBoundingClientRect(); return [r.top, r.left, r.height];"

        seen: list = []

        def steady(b) -> bool:
            seen.append(b.execute_script(where, plot))
            return len(seen) > 1 and seen[-1] == seen[-2]

        WebDriverWait(browser, 10, poll_frequency=0.3).until(steady)
        x, y, width, height = browser.execute_script(
            """
            const gd = arguments[0], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const box = gd.getBoundingClientRect();
            return [xa._offset + xa.l2p(9), ya._offset + ya.l2p(0), box.width, box.height];
            """,
            plot,
        )
        offset = (int(x - width / 2), int(y - height / 2))
        # Plotly clicks the point it hovers, and hover runs on a later animation frame:
        # hover until Monday 09:00 is the hovered cell, then move there again and click.
        ActionChains(browser).move_to_element_with_offset(plot, *offset).perform()
        WebDriverWait(browser, 3).until(
            lambda b: b.execute_script(
                "const h = arguments[0]._hoverdata;"
                "return !!h && h.length > 0 && h[0].x === 9 && h[0].y === 'Mon';",
                plot,
            )
        )
        ActionChains(browser).move_to_element_with_offset(plot, *offset).click().perform()

    clicked = retry_click(browser, click_cell, lambda q: q.get("weekday") == "0")
    assert clicked, "the heatmap click never reached the URL"
    wait_query(
        browser, range="custom", weekday="0", hour="9", **{"from": "2026-03-01", "to": "2026-03-07"}
    )
    wait_text(browser, "kpi-total-value", "3")
    badge = browser.find_element(By.ID, "overview-cell-badge")
    assert badge.is_displayed() and "Monday 09:00–10:00 UTC" in badge.text
    screenshot(browser, "overview-cell")
    # Plotly keeps the page where the heatmap is; a script click needs no scrolling.
    browser.execute_script("document.getElementById('overview-cell-clear').click();")
    wait_query(browser, range="custom", **{"from": "2026-03-01", "to": "2026-03-07"})
    wait_text(browser, "kpi-total-value", "6")


def test_typed_custom_dates_are_checked_beside_the_inputs(
    browser, live_server, app_world, sqlite_db
):
    from tests.browser.test_calls import invalid, set_date

    add_analytics(sqlite_db, app_world)
    open_overview(browser, live_server, "manager_a@example.com", WEEK)
    wait_text(browser, "kpi-total-value", "6")
    assert browser.find_element(By.ID, "overview-dates-from").get_attribute("value") == "2026-03-01"
    assert browser.find_element(By.CSS_SELECTOR, 'label[for="overview-dates-to"]').text == "To"

    # a year typed digit by digit passes through 0002: said, marked, and nothing else moves
    set_date(browser, "overview-dates-from", "0002-03-01")
    wait_text(
        browser,
        "overview-dates-note",
        "The start date must be between 2000-01-01 and 2100-12-31.",
    )
    WebDriverWait(browser, 15).until(lambda b: invalid(b, "overview-dates-from"))
    assert browser.find_element(By.ID, "overview-dates-wrap").is_displayed()
    assert browser.find_element(By.ID, "overview-dates-from").get_attribute("value") == "0002-03-01"
    assert query(browser) == {"range": "custom", "from": "2026-03-01", "to": "2026-03-07"}
    screenshot(browser, "overview-dates-error")

    set_date(browser, "overview-dates-from", "2026-03-02")
    wait_query(browser, range="custom", **{"from": "2026-03-02", "to": "2026-03-07"})
    WebDriverWait(browser, 15).until(
        lambda b: not b.find_element(By.ID, "overview-dates-note").text
    )
    assert not invalid(browser, "overview-dates-from")


def test_bookmarked_url_restores_filters(browser, live_server, app_world, sqlite_db):
    add_analytics(sqlite_db, app_world)
    a2 = app_world.numbers["a2"]
    open_overview(browser, live_server, "manager_a@example.com", WEEK + f"&phone={a2}")
    wait_text(browser, "kpi-total-value", "2")
    WebDriverWait(browser, 15).until(lambda b: "a2" in b.find_element(By.ID, "overview-phone").text)
    assert browser.find_element(By.ID, "overview-dates-wrap").is_displayed()
    screenshot(browser, "overview-custom-range")


def test_an_agent_sees_only_their_numbers(browser, live_server, app_world, sqlite_db):
    add_analytics(sqlite_db, app_world)
    open_overview(browser, live_server, "agent_a1@example.com", WEEK)
    wait_text(browser, "kpi-total-value", "3")
    wait_for_chart(browser, "overview-chart-numbers")
    labels = {
        t.text
        for t in browser.find_elements(By.CSS_SELECTOR, "#overview-chart-numbers .ytick text")
    }
    assert labels == {"a1 · +15550000000"}
    browser.find_element(By.CSS_SELECTOR, "#overview-phone").click()
    options = WebDriverWait(browser, 10).until(
        lambda b: [o.text for o in b.find_elements(By.CSS_SELECTOR, "[role='option']") if o.text]
    )
    assert options == ["a1 · +15550000000"]
    screenshot(browser, "overview-agent")
    # A number that is not theirs, put in the URL by hand, is dropped (it is not among
    # their choices) and never shows another agent's calls (over HTTP the same filter
    # gives zero: tests/callbacks/test_overview.py).
    browser.get(live_server + "/" + WEEK + f"&phone={app_world.numbers['a2']}")
    wait_query(browser, range="custom", **{"from": "2026-03-01", "to": "2026-03-07"})
    wait_text(browser, "kpi-total-value", "3")


def test_an_empty_range_says_so_and_widens(browser, live_server, app_world):
    """Org B has calls, just not in January 2025: the page says that, not "No calls yet"."""
    open_overview(
        browser, live_server, "admin_b@example.com", "?range=custom&from=2025-01-01&to=2025-01-31"
    )
    wait_text(browser, "kpi-total-value", "0")
    empty = WebDriverWait(browser, 15).until(
        EC.visibility_of_element_located((By.ID, "overview-empty-state"))
    )
    assert "No calls between 1 Jan 2025 and 31 Jan 2025" in empty.text
    assert "No calls yet" not in empty.text
    assert not browser.find_element(By.ID, "overview-call-charts").is_displayed()
    screenshot(browser, "overview-empty")
    widen = browser.find_element(By.ID, "overview-widen")
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", widen
    )
    wait_query(browser, range="90")
    wait_text(browser, "kpi-total-value", "5")


def test_an_organisation_without_calls_says_none_synced_yet(
    browser, live_server, app_world, sqlite_db
):
    from models.records import Call

    with sqlite_db.session() as s:
        s.query(Call).filter(Call.org_id == app_world.org_b).delete()
        s.commit()
    open_overview(browser, live_server, "admin_b@example.com", "?range=30")
    empty = WebDriverWait(browser, 15).until(
        EC.visibility_of_element_located((By.ID, "overview-empty-state"))
    )
    assert "No calls yet" in empty.text


def test_demo_organisation_with_auto_refresh(browser, live_server, app_world, sqlite_db):
    from models.demo_data import seed_demo

    summary = seed_demo(sqlite_db.engine, orgs=1, calls=3000, cases=400, contacts=200)
    sign_in(browser, live_server, f"manager@{summary.slugs[0]}.example", "demo-password")
    WebDriverWait(browser, 15).until(EC.presence_of_element_located((By.ID, "kpi-total-value")))
    WebDriverWait(browser, 15).until(
        lambda b: b.find_element(By.ID, "kpi-total-value").text not in ("", "0")
    )
    for chart in ("days", "heatmap", "agents", "numbers", "case-status", "case-office", "tickets"):
        wait_for_chart(browser, f"overview-chart-{chart}")
    updated = browser.find_element(By.ID, "overview-updated").text
    assert updated.startswith("Last updated ")
    switch = browser.find_element(By.ID, "overview-auto")
    assert not switch.is_selected()
    browser.find_element(By.CSS_SELECTOR, "label[for='overview-auto']").click()
    WebDriverWait(browser, 5).until(lambda b: b.find_element(By.ID, "overview-auto").is_selected())
    browser.find_element(By.ID, "overview-refresh").click()
    WebDriverWait(browser, 15).until(
        lambda b: (
            b.find_element(By.ID, "overview-updated").text != updated
            or b.find_element(By.ID, "overview-updated").text.startswith("Last updated")
        )
    )
    browser.set_window_size(1400, 2000)  # the whole page in one picture
    try:
        WebDriverWait(browser, 10).until(
            lambda b: b.find_element(By.ID, "overview-updated").text.startswith("Last updated")
        )
        screenshot(browser, "overview-demo")
    finally:
        browser.set_window_size(1400, 900)
