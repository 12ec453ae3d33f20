"""The sign-in page in the browser: language, labelled fields, no critical or serious axe-core
violations, before and after a failed attempt."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import WIDTHS, axe_report, run_axe, set_width

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", WIDTHS)
def test_the_sign_in_page_passes_axe(chrome, live_server, width):
    set_width(chrome, width)
    chrome.delete_all_cookies()
    chrome.get(live_server + "/login")
    assert chrome.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    for field in ("email", "password"):
        label = chrome.find_element(By.CSS_SELECTOR, f"label[for='{field}']")
        assert label.is_displayed() and label.text
    assert not run_axe(chrome), axe_report({"/login": run_axe(chrome)})
    chrome.find_element(By.ID, "email").send_keys("nobody@example.com")
    chrome.find_element(By.ID, "password").send_keys("wrong-password")
    chrome.find_element(By.ID, "login-submit").click()
    WebDriverWait(chrome, 10).until(lambda d: d.find_elements(By.ID, "login-error"))
    email = chrome.find_element(By.ID, "email")
    assert email.get_attribute("aria-invalid") == "true"
    assert email.get_attribute("aria-describedby") == "login-error"
    violations = run_axe(chrome)
    assert not violations, axe_report({"/login (failed)": violations})
