"""Calls, recordings and SMS in headless Chromium: what a person clicks and reads."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import screenshot
from tests.browser.test_signin import sign_in
from tests.models.test_calls import add_many_calls, add_records

pytestmark = pytest.mark.browser


def wait_text(browser, element_id: str, text: str, timeout: float = 15) -> None:
    WebDriverWait(browser, timeout).until(
        EC.text_to_be_present_in_element((By.ID, element_id), text)
    )


def query(browser) -> dict[str, list[str]]:
    return parse_qs(urlsplit(browser.current_url).query)


def wait_query(browser, check, timeout: float = 10) -> dict[str, list[str]]:
    WebDriverWait(browser, timeout).until(lambda b: check(query(b)))
    return query(browser)


def column(browser, table_id: str, column_id: str) -> list[str]:
    """The texts of a record grid's column, top to bottom; a re-drawn cell reads as missing,
    not as an error."""
    try:
        rows = browser.find_elements(
            By.CSS_SELECTOR, f"#{table_id} .ag-center-cols-container .ag-row"
        )
        rows.sort(key=lambda r: int(r.get_attribute("row-index") or 0))
        cells = [r.find_elements(By.CSS_SELECTOR, f'.ag-cell[col-id="{column_id}"]') for r in rows]
        return [c[0].text for c in cells if c]
    except StaleElementReferenceException:
        return []


# A native date input takes what a person picks in its calendar; React hears it as an input.
SET_DATE = """
const input = document.getElementById(arguments[0]);
Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, arguments[1]);
input.dispatchEvent(new Event('input', {bubbles: true}));
input.dispatchEvent(new Event('change', {bubbles: true}));
"""


def set_date(browser, input_id: str, day: str) -> None:
    """Pick `day` (YYYY-MM-DD, or "" to empty it) in a date range's input (pages/_dates.py)."""
    browser.execute_script(SET_DATE, input_id, day)


def idle(browser, quiet: float = 0.5, timeout: float = 15) -> None:
    """Wait until no callback has been in flight for `quiet` seconds."""
    import time

    busy = "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length"
    deadline, calm = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if browser.execute_script(busy):
            calm = None
        elif calm is None:
            calm = time.monotonic()
        elif time.monotonic() - calm >= quiet:
            return
        time.sleep(0.05)


def invalid(browser, input_id: str) -> bool:
    return "is-invalid" in (browser.find_element(By.ID, input_id).get_attribute("class") or "")


def click(browser, element) -> None:
    """Scroll it to the middle at once (Bootstrap makes scrolling smooth, i.e. late)."""
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element
    )
    element.click()


def open_page(browser, base: str, email: str, path: str) -> None:
    sign_in(browser, base, email)
    WebDriverWait(browser, 15).until(EC.presence_of_element_located((By.ID, "sidebar")))
    browser.get(base + path)


def test_calls_search_page_sort_and_the_url_keeps_filters(
    browser, live_server, app_world, sqlite_db
):
    add_records(sqlite_db, app_world)
    add_many_calls(sqlite_db, app_world.org_a, app_world.numbers["a1"], 60)
    open_page(browser, live_server, "manager_a@example.com", "/calls")
    wait_text(browser, "calls-count", "69 calls")
    screenshot(browser, "calls")

    search = browser.find_element(By.ID, "calls-search")
    search.send_keys("+1444", Keys.ENTER)
    wait_text(browser, "calls-count", "60 calls")
    assert wait_query(browser, lambda q: "q" in q)["q"] == ["+1444"]

    click(
        browser,
        browser.find_element(
            By.CSS_SELECTOR, '#calls-table .ag-paging-button[aria-label="Next Page"]'
        ),
    )
    WebDriverWait(browser, 10).until(lambda b: "+14440000025" in column(b, "calls-table", "from"))

    sort = '#calls-table .ag-header-cell[col-id="duration"] .ag-header-cell-label'
    click(browser, browser.find_element(By.CSS_SELECTOR, sort))
    params = wait_query(browser, lambda q: q.get("sort") == ["duration"])
    assert params["q"] == ["+1444"]
    WebDriverWait(browser, 10).until(lambda b: column(b, "calls-table", "duration")[:1] == ["0:00"])

    status = browser.find_element(By.ID, "calls-status")
    status.click()
    WebDriverWait(browser, 5).until(
        EC.element_to_be_clickable(
            (By.XPATH, "//*[contains(@class,'dash-dropdown-option')][normalize-space()='Missed']")
        )
    ).click()
    params = wait_query(browser, lambda q: q.get("status") == ["missed"])
    wait_text(browser, "calls-count", "15 calls")

    href = browser.find_element(By.ID, "calls-export").get_attribute("href")
    export = urlsplit(href)
    assert export.path == "/export/calls.csv"
    assert parse_qs(export.query) == {
        "q": ["+1444"],
        "status": ["missed"],
        "sort": ["duration"],
        "bom": ["1"],
    }

    # a reload (or a shared link) brings back the same view
    browser.get(browser.current_url)
    wait_text(browser, "calls-count", "15 calls")
    assert browser.find_element(By.ID, "calls-search").get_attribute("value") == "+1444"
    WebDriverWait(browser, 10).until(
        lambda b: set(column(b, "calls-table", "status")) == {"Missed"}
    )
    screenshot(browser, "calls-filtered")


def test_bad_url_dates_are_explained_and_the_address_bar_corrected(browser, live_server, app_world):
    open_page(browser, live_server, "manager_a@example.com", "/calls?from=2026-13-45&to=2026-01-31")
    wait_text(browser, "calls-dates-note", "not “2026-13-45”")
    WebDriverWait(browser, 10).until(lambda b: query(b) == {"to": ["2026-01-31"]})
    browser.get(live_server + "/?range=custom&from=2026-03-07&to=2026-03-01")
    wait_text(browser, "overview-dates-note", "swapped")
    WebDriverWait(browser, 10).until(
        lambda b: query(b) == {"range": ["custom"], "from": ["2026-03-01"], "to": ["2026-03-07"]}
    )


def test_an_agent_sees_only_their_numbers(browser, live_server, app_world, sqlite_db):
    add_many_calls(sqlite_db, app_world.org_a, app_world.numbers["a2"], 30)
    open_page(browser, live_server, "agent_a1@example.com", "/calls")
    wait_text(browser, "calls-count", "4 calls")
    WebDriverWait(browser, 10).until(lambda b: set(column(b, "calls-table", "number")) == {"a1"})
    nav = browser.find_element(By.ID, "sidebar").text
    assert "Calls" in nav and "Recordings" in nav and "Reports" not in nav
    screenshot(browser, "calls-agent")


def test_recordings_play_in_the_page(browser, live_server, app_world, sqlite_db):
    add_records(sqlite_db, app_world)
    open_page(browser, live_server, "agent_a1@example.com", "/recordings")
    wait_text(browser, "recordings-count", "2 recordings")
    players = browser.find_elements(By.CSS_SELECTOR, "#recordings-list audio")
    assert [p.get_attribute("src") for p in players] == ["https://rec.example/c1.mp3"]
    assert players[0].get_attribute("controls") is not None
    assert players[0].get_attribute("preload") == "none"
    assert "Recording link not playable" in browser.find_element(By.ID, "recordings-list").text
    assert not browser.find_elements(By.CSS_SELECTOR, '[src^="javascript"], [href^="javascript"]')
    screenshot(browser, "recordings")
    # rec.example does not exist: loading it says so instead of a silent player (defect 9)
    browser.execute_script("arguments[0].load()", players[0])
    WebDriverWait(browser, 15).until(
        lambda b: (
            "This recording could not be loaded." in b.find_element(By.ID, "recordings-list").text
        )
    )
    assert not players[0].is_displayed()


def test_the_demo_recordings_play(browser, live_server, app_world, sqlite_db):
    """A demo recording is served by the app itself and the browser can play it."""
    from sqlalchemy import update

    from models.demo_data import DEMO_RECORDINGS
    from models.records import Call

    with sqlite_db.session() as s:
        s.execute(
            update(Call)
            .where(Call.phone_number_id == app_world.numbers["a1"])
            .values(recording_url=DEMO_RECORDINGS[0])
        )
        s.commit()
    open_page(browser, live_server, "agent_a1@example.com", "/recordings")
    wait_text(browser, "recordings-count", "4 recordings")
    player = browser.find_element(By.CSS_SELECTOR, "#recordings-list audio")
    browser.execute_script("arguments[0].load()", player)
    WebDriverWait(browser, 15).until(
        lambda b: b.execute_script("return arguments[0].readyState", player) >= 1
    )
    duration = browser.execute_script("return arguments[0].duration", player)
    assert 2 <= duration <= 4
    assert "could not be loaded" not in browser.find_element(By.ID, "recordings-list").text


def test_sms_page_lists_messages_or_explains_their_absence(
    browser, live_server, app_world, sqlite_db
):
    open_page(browser, live_server, "manager_a@example.com", "/sms")
    wait_text(browser, "sms-empty", "None of the connected systems brings SMS yet")
    screenshot(browser, "sms-empty")
    add_records(sqlite_db, app_world)
    browser.get(live_server + "/sms")
    wait_text(browser, "sms-count", "3 messages")
    screenshot(browser, "sms")


def test_calls_dates_are_picked_checked_beside_the_inputs_and_kept_in_the_url(
    browser, live_server, app_world, sqlite_db
):
    from datetime import timedelta

    from models.base import utcnow

    add_many_calls(sqlite_db, app_world.org_a, app_world.numbers["a1"], 60)  # two days ago
    today = utcnow().date()
    yesterday = (today - timedelta(days=1)).isoformat()
    open_page(browser, live_server, "manager_a@example.com", "/calls")
    wait_text(browser, "calls-count", "69 calls")
    label = browser.find_element(By.CSS_SELECTOR, 'label[for="calls-dates-from"]')
    assert label.text == "From" and label.is_displayed()
    assert browser.find_element(By.ID, "calls-dates-from").get_attribute("type") == "date"
    assert browser.find_element(By.ID, "calls-dates-from").get_attribute("min") == "2000-01-01"

    set_date(browser, "calls-dates-from", yesterday)
    wait_text(browser, "calls-count", "9 calls")
    assert wait_query(browser, lambda q: "from" in q) == {"from": [yesterday]}

    # an end before the start is said under the inputs, and the To input is marked
    set_date(browser, "calls-dates-to", (today - timedelta(days=3)).isoformat())
    wait_text(browser, "calls-dates-note", "The end date is before the start date.")
    WebDriverWait(browser, 5).until(lambda b: invalid(b, "calls-dates-to"))
    assert not invalid(browser, "calls-dates-from")
    assert browser.find_element(By.ID, "calls-dates-note").get_attribute("role") == "alert"
    screenshot(browser, "calls-dates-error")

    set_date(browser, "calls-dates-to", "")
    WebDriverWait(browser, 5).until(
        lambda b: (
            not b.find_element(By.ID, "calls-dates-note").text and not invalid(b, "calls-dates-to")
        )
    )
    wait_text(browser, "calls-count", "9 calls")
    idle(browser)  # the grid's answer to the emptied To, before the next change
    click(browser, browser.find_element(By.ID, "calls-reset"))
    wait_text(browser, "calls-count", "69 calls")
    assert browser.find_element(By.ID, "calls-dates-from").get_attribute("value") == ""
    wait_query(browser, lambda q: q == {})


def test_sms_days_come_from_the_url_and_go_back_to_it(browser, live_server, app_world, sqlite_db):
    from datetime import timedelta

    from models.base import utcnow

    add_records(sqlite_db, app_world)
    today = utcnow().date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    open_page(browser, live_server, "manager_a@example.com", f"/sms?from={tomorrow}&to=2026-99-01")
    wait_text(browser, "sms-dates-note", "not “2026-99-01”")
    wait_text(browser, "sms-count", "No messages match")
    WebDriverWait(browser, 10).until(lambda b: query(b) == {"from": [tomorrow]})
    set_date(browser, "sms-dates-from", today.isoformat())
    wait_text(browser, "sms-count", "3 messages")
    WebDriverWait(browser, 10).until(lambda b: query(b) == {"from": [today.isoformat()]})
    WebDriverWait(browser, 5).until(lambda b: not b.find_element(By.ID, "sms-dates-note").text)
