"""Sign in through the real form in headless Chromium and read the KPI cards."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import screenshot
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser


def sign_in(browser, base: str, email: str, password: str = PASSWORD) -> None:
    browser.get(base + "/")
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "email")))
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "login-submit").click()


def card_text(browser, card_id: str) -> str:
    locator = (By.ID, f"{card_id}-value")
    WebDriverWait(browser, 15).until(EC.presence_of_element_located(locator))
    return browser.find_element(*locator).text


def test_manager_signs_in_and_reads_kpi_cards(browser, live_server, app_world):
    sign_in(browser, live_server, "manager_a@example.com")
    assert card_text(browser, "kpi-total") == "9"
    assert card_text(browser, "kpi-answer-rate") == "66.7%"
    assert card_text(browser, "kpi-aht") == "2m 00s"
    nav = browser.find_element(By.ID, "sidebar").text
    assert "Overview" in nav
    screenshot(browser, "overview")


def test_agent_sees_only_their_numbers(browser, live_server, app_world):
    sign_in(browser, live_server, "agent_a1@example.com")
    assert card_text(browser, "kpi-total") == "4"


def test_wrong_password_shows_one_generic_message(browser, live_server, app_world):
    sign_in(browser, live_server, "manager_a@example.com", "wrong-password")
    error = WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "login-error")))
    assert error.text == "Wrong email or password."
    screenshot(browser, "login-error")


def test_sign_out_returns_to_the_login_form(browser, live_server, app_world):
    sign_in(browser, live_server, "manager_a@example.com")
    card_text(browser, "kpi-total")
    browser.find_element(
        By.CSS_SELECTOR, "#shell-user-menu button, #shell-user-menu .dropdown-toggle"
    ).click()
    WebDriverWait(browser, 5).until(EC.element_to_be_clickable((By.ID, "shell-signout"))).click()
    WebDriverWait(browser, 10).until(EC.url_contains("/login"))
    assert "You have been signed out." in browser.page_source
    browser.get(live_server + "/")
    WebDriverWait(browser, 10).until(EC.url_contains("/login?next="))
