"""Reports in headless Chromium: build, sort, pick custom dates, save, load and delete."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import screenshot
from tests.browser.test_calls import click, column, invalid, open_page, set_date, wait_text
from tests.models.test_calls import add_records

pytestmark = pytest.mark.browser


def rows(browser) -> int:
    return len(
        browser.find_elements(By.CSS_SELECTOR, "#reports-table .ag-center-cols-container .ag-row")
    )


def choose_saved(browser, name: str) -> None:
    click(browser, browser.find_element(By.CSS_SELECTOR, "#reports-saved"))
    WebDriverWait(browser, 5).until(
        EC.element_to_be_clickable(
            (By.XPATH, f"//*[contains(@class,'dash-dropdown-option')][normalize-space()='{name}']")
        )
    ).click()


def test_a_manager_builds_saves_loads_and_deletes_a_report(
    browser, live_server, app_world, sqlite_db
):
    add_records(sqlite_db, app_world)
    open_page(browser, live_server, "manager_a@example.com", "/reports")
    wait_text(browser, "reports-count", "30 rows")
    WebDriverWait(browser, 15).until(lambda b: rows(b) == 30)  # a month of days on one page
    assert (
        browser.find_element(By.CSS_SELECTOR, "#reports-table")
        .get_attribute("class")
        .count("ag-theme-quartz")
    )
    screenshot(browser, "reports-daily")

    click(browser, browser.find_element(By.XPATH, "//label[normalize-space()='Missed']"))
    click(browser, browser.find_element(By.XPATH, "//label[normalize-space()='Answer rate']"))
    Select(browser.find_element(By.ID, "reports-group")).select_by_visible_text("Number")
    wait_text(browser, "reports-summary", "Total calls, Answered and Missed by number")
    numbers = ["a1 · +15550000000", "a2 · +15550000001", "a3 · +15550000002"]
    WebDriverWait(browser, 10).until(lambda b: column(b, "reports-table", "group") == numbers)
    assert column(browser, "reports-table", "calls_missed") == ["1", "1", "0"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#reports-chart .barlayer .point")) == 9
    href = browser.find_element(By.ID, "reports-export").get_attribute("href")
    assert parse_qs(urlsplit(href).query)["metrics"] == ["calls_total,calls_answered,calls_missed"]
    screenshot(browser, "reports-by-number")

    # a header click sorts on the server, on the numbers
    header = '#reports-table .ag-header-cell[col-id="calls_total"] .ag-header-cell-label'
    click(browser, browser.find_element(By.CSS_SELECTOR, header))
    WebDriverWait(browser, 10).until(
        lambda b: column(b, "reports-table", "calls_total") == ["2", "3", "4"]
    )

    # an incompatible grouping explains itself instead of failing
    Select(browser.find_element(By.ID, "reports-group")).select_by_visible_text("Office")
    wait_text(browser, "reports-error", "Total calls cannot be grouped by office")
    screenshot(browser, "reports-error")
    Select(browser.find_element(By.ID, "reports-group")).select_by_visible_text("Number")
    WebDriverWait(browser, 10).until(EC.invisibility_of_element_located((By.ID, "reports-error")))

    browser.find_element(By.ID, "reports-name").send_keys("Calls by number")
    click(browser, browser.find_element(By.ID, "reports-save"))
    wait_text(browser, "reports-status", "Saved “Calls by number”.")
    wait_text(browser, "reports-saved", "Calls by number")
    screenshot(browser, "reports-saved")

    # a fresh page loads it back from the saved list
    browser.get(live_server + "/reports")
    wait_text(browser, "reports-summary", "by day")
    choose_saved(browser, "Calls by number")
    wait_text(browser, "reports-status", "Loaded “Calls by number”.")
    wait_text(browser, "reports-summary", "Total calls, Answered and Missed by number")
    WebDriverWait(browser, 10).until(lambda b: column(b, "reports-table", "group") == numbers)
    assert browser.find_element(By.ID, "reports-name").get_attribute("value") == "Calls by number"

    # deleting asks first
    click(browser, browser.find_element(By.ID, "reports-delete"))
    dialog = WebDriverWait(browser, 5).until(
        EC.visibility_of_element_located((By.ID, "reports-confirm-text"))
    )
    assert "Delete the saved report “Calls by number”?" in dialog.text
    screenshot(browser, "reports-delete-confirm")
    click(browser, browser.find_element(By.ID, "reports-confirm-yes"))
    wait_text(browser, "reports-status", "Deleted “Calls by number”.")
    WebDriverWait(browser, 5).until(
        EC.invisibility_of_element_located((By.ID, "reports-confirm-text"))
    )


def test_custom_dates_are_checked_saved_and_loaded_back(browser, live_server, app_world):
    from models.base import utcnow

    today = utcnow().date()
    week_ago = (today - timedelta(days=6)).isoformat()
    open_page(browser, live_server, "manager_a@example.com", "/reports")
    wait_text(browser, "reports-count", "30 rows")
    assert not browser.find_element(By.ID, "reports-dates-from").is_displayed()
    Select(browser.find_element(By.ID, "reports-range")).select_by_visible_text("Custom dates")
    WebDriverWait(browser, 5).until(
        lambda b: b.find_element(By.ID, "reports-dates-from").is_displayed()
    )
    label = browser.find_element(By.CSS_SELECTOR, 'label[for="reports-dates-to"]')
    assert label.text == "To" and label.is_displayed()

    set_date(browser, "reports-dates-from", week_ago)
    wait_text(browser, "reports-count", "7 rows")
    set_date(browser, "reports-dates-to", (today - timedelta(days=10)).isoformat())
    wait_text(browser, "reports-dates-note", "The end date is before the start date.")
    WebDriverWait(browser, 5).until(lambda b: invalid(b, "reports-dates-to"))
    wait_text(browser, "reports-error", "The start date is after the end date.")
    screenshot(browser, "reports-dates-error")
    set_date(browser, "reports-dates-to", today.isoformat())
    wait_text(browser, "reports-count", "7 rows")
    WebDriverWait(browser, 5).until(lambda b: not invalid(b, "reports-dates-to"))
    # the address bar holds the report: a reload shows the same one
    WebDriverWait(browser, 10).until(lambda b: "from=" in b.current_url)
    assert parse_qs(urlsplit(browser.current_url).query) == {
        "metrics": ["calls_total,calls_answered,answer_rate"],
        "group": ["day"],
        "range": ["custom"],
        "from": [week_ago],
        "to": [today.isoformat()],
    }
    browser.get(browser.current_url)
    wait_text(browser, "reports-count", "7 rows")
    assert (
        browser.find_element(By.ID, "reports-dates-to").get_attribute("value") == today.isoformat()
    )

    browser.find_element(By.ID, "reports-name").send_keys("Last week")
    click(browser, browser.find_element(By.ID, "reports-save"))
    wait_text(browser, "reports-status", "Saved “Last week”.")
    browser.get(live_server + "/reports")
    wait_text(browser, "reports-count", "30 rows")
    choose_saved(browser, "Last week")
    wait_text(browser, "reports-status", "Loaded “Last week”.")
    wait_text(browser, "reports-count", "7 rows")
    assert browser.find_element(By.ID, "reports-dates-from").get_attribute("value") == week_ago
    assert browser.find_element(By.ID, "reports-dates-to").is_displayed()
