"""Every page as every role at 1440, 1024 and 390 px: navigation reachable, nothing wider
than the window, no console errors, and axe-core finding nothing critical or serious.

One test per role walks all widths in one signed-in browser session, on a demo-like
organisation (seed_demo plus a demo connection with two runs). Each test collects every
page's problems before it fails, so one failure lists them all (axe's as
`AxeViolations`, after the rest).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import WIDTHS, axe_report, run_axe, screenshot, set_width
from tests.browser.test_signin import sign_in

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "demo-password"
PLATFORM = "platform@example.com"
#: Widths axe runs at (the layout at 1024 px is the desktop one with less room).
AXE_WIDTHS = (1440, 390)
MENU_TOGGLE = "shell-menu-toggle"
#: Console messages that are not the page's fault.
IGNORED_CONSOLE = ("favicon.ico",)
NOT_FOUND_PROBE = "/no-such-page"  # answered 404 with the not-found page, on purpose


class AxeViolations(AssertionError):
    """axe-core found critical or serious violations."""


@dataclass
class Demo:
    """The seeded organisations and what the walk needs from them."""

    slugs: list[str]
    source_id: dict[str, int]  # who -> a connection of the org they look at
    run_id: dict[str, int]
    stream: str = "contacts"


@dataclass
class Findings:
    navigation: list[str] = field(default_factory=list)
    overflow: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    axe: dict[str, list[dict]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


@pytest.fixture
def demo(sqlite_db) -> Demo:
    """Two demo organisations (seed_demo), each with a synced demo connection, and a
    platform admin."""
    from sqlalchemy import select

    from models.demo_data import seed_demo
    from models.orgs import Organization
    from models.users import create_user
    from tests.helpers import PASSWORD, make_connection, run_sync

    summary = seed_demo(sqlite_db.engine, orgs=2, calls=3000, cases=300, contacts=200)
    conns = {}
    runs = {}
    for org_id, slug in summary.orgs:
        conn = make_connection(
            sqlite_db, org_id, "demo", name="Demo CRM", settings={"records": 40, "delay_ms": 0}
        )
        run_sync(conn)
        runs[slug] = run_sync(conn, "contacts", max_records=10).id
        conns[slug] = conn.id
    with sqlite_db.session() as s:
        create_user(s, PLATFORM, PASSWORD, platform_admin=True)
        first = s.scalars(select(Organization.slug).order_by(Organization.name)).first()
        s.commit()
    slug = summary.orgs[0][1]
    source = {"org_admin": conns[slug], "manager": conns[slug], "agent": conns[slug]}
    run = {"org_admin": runs[slug], "manager": runs[slug], "agent": runs[slug]}
    source["platform_admin"], run["platform_admin"] = conns[first], runs[first]
    return Demo([s for _id, s in summary.orgs], source, run)


def account(role: str, demo: Demo) -> tuple[str, str]:
    from tests.helpers import PASSWORD

    local = {"org_admin": "admin", "manager": "manager", "agent": "agent1"}
    if role == "platform_admin":
        return PLATFORM, PASSWORD
    return f"{local[role]}@{demo.slugs[0]}.example", DEMO_PASSWORD


def wait(driver, seconds: float = 20) -> WebDriverWait:
    return WebDriverWait(driver, seconds, ignored_exceptions=(StaleElementReferenceException,))


def settle(driver, quiet: float = 0.4, seconds: float = 20) -> None:
    """Wait until the page body has content and no callback has been in flight for `quiet` s."""
    wait(driver, seconds).until(
        lambda d: d.execute_script(
            "const b = document.getElementById('page-body');"
            "return document.readyState === 'complete' && b && b.innerText.trim().length > 0"
        )
    )
    script = "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length"
    deadline = time.monotonic() + seconds
    calm_since = None
    while time.monotonic() < deadline:
        now = time.monotonic()
        if driver.execute_script(script):
            calm_since = None
        elif calm_since is None:
            calm_since = now
        elif now - calm_since >= quiet:
            return
        time.sleep(0.05)


def nav_hrefs(driver) -> list[str]:
    """The pages the sidebar offers (the menu holds the same links on phones)."""
    links = driver.find_elements(By.CSS_SELECTOR, "#sidebar a.nav-link")
    return [link.get_attribute("pathname") for link in links]


def navigation_reachable(driver) -> bool:
    """The sidebar links are visible, or the menu toggler shows them (and closes again)."""
    visible = "return [...document.querySelectorAll('#sidebar a.nav-link')].some(a => a.offsetParent && a.getBoundingClientRect().width > 0)"  # noqa: E501
    if driver.execute_script(visible):
        return True
    toggles = [t for t in driver.find_elements(By.ID, MENU_TOGGLE) if t.is_displayed()]
    if not toggles:
        return False
    toggles[0].click()
    try:
        wait(driver, 5).until(lambda d: d.execute_script(visible))
    except TimeoutException:
        return False
    toggles[0].click()
    try:
        wait(driver, 5).until(lambda d: not d.execute_script(visible))
    except TimeoutException:
        return False
    return True


def overflow(driver) -> int:
    """How many CSS pixels the page is wider than the window (0 when it fits)."""
    return driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")


# Records console.error calls and uncaught errors in words (Chromium's log says "Object" for
# the renderer's errors); added to every document the walk opens.
RECORD_ERRORS = """
window.__sbErrors = [];
const words = x => {
  if (x && typeof x === 'object') {
    const head = x.message || '';
    const more = typeof x.html === 'string' ? ' ' + x.html.split('\\n').slice(0, 2).join(' ') : '';
    if (head) { return head + more; }
    try { return JSON.stringify(x); } catch (e) { return String(x); }
  }
  return String(x);
};
const original = console.error;
console.error = function (...args) {
  window.__sbErrors.push(args.map(words).join(' ').slice(0, 400));
  return original.apply(this, args);
};
window.addEventListener('error', e => window.__sbErrors.push('uncaught: ' + e.message));
window.addEventListener('unhandledrejection', e => window.__sbErrors.push('unhandled: ' + words(e.reason)));
"""


def console_errors(driver, expected_404: str | None = None) -> list[str]:
    """The page's console errors and failed requests, each once with a count.

    `expected_404`: the URL of a page that is meant to answer 404 (the not-found page).
    """
    found = list(driver.execute_script("return window.__sbErrors || []"))
    for entry in driver.get_log("browser"):
        message = entry["message"]
        if entry["level"] != "SEVERE" or entry.get("source") in ("console-api", "javascript"):
            continue  # recorded in words above
        if any(i in message for i in IGNORED_CONSOLE):
            continue
        if expected_404 and message.startswith(expected_404 + " ") and "404" in message:
            continue
        found.append(message)
    counted: dict[str, int] = {}
    for message in found:
        counted[message] = counted.get(message, 0) + 1
    return [f"{m} (x{n})" if n > 1 else m for m, n in counted.items()]


def pages_for(driver, role: str, demo: Demo) -> list[str]:
    """Every page the role may open, and the frame's own not-found and denied pages."""
    paths = nav_hrefs(driver)
    source = demo.source_id[role]
    paths += [
        f"/sources/{source}",
        f"/sources/{source}/{demo.stream}",
        f"/syncs/{demo.run_id[role]}",
        NOT_FOUND_PROBE,
    ]
    if role == "agent":
        paths.append("/team")  # the denied page
    return list(dict.fromkeys(paths))


def walk(driver, base: str, role: str, demo: Demo) -> tuple[Findings, list[str]]:
    email, password = account(role, demo)
    set_width(driver, 1440)
    driver.get(base + "/login")
    wait(driver, 30).until(lambda d: d.find_elements(By.ID, "email"))
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    wait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#sidebar a.nav-link"))
    paths = pages_for(driver, role, demo)
    found = Findings()
    driver.get_log("browser")
    script = driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_ERRORS}
    )
    try:
        _walk_widths(driver, base, role, paths, found)
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", script)
    return found, paths


def _walk_widths(driver, base: str, role: str, paths: list[str], found: Findings) -> None:
    for width in WIDTHS:
        set_width(driver, width)
        for path in paths:
            where = f"{path} @{width}"
            started = time.monotonic()
            driver.get(base + path)
            settle(driver)
            if not navigation_reachable(driver):
                found.navigation.append(where)
            extra = overflow(driver)
            if extra > 0:
                found.overflow.append(f"{where}: {extra}px too wide")
            missing = base + path if path == NOT_FOUND_PROBE else None
            found.console += [f"{where}: {m}" for m in console_errors(driver, missing)]
            if width in AXE_WIDTHS:
                found.axe[where] = run_axe(driver)
            found.seconds[where] = time.monotonic() - started
            if path == "/" and width == 390:
                screenshot(driver, f"walk-{role}-phone")


@pytest.mark.parametrize("role", ["org_admin", "manager", "agent", "platform_admin"])
def test_every_page_at_every_width(chrome, live_server, demo, role):
    chrome.delete_all_cookies()
    started = time.monotonic()
    try:
        found, paths = walk(chrome, live_server, role, demo)
    finally:
        set_width(chrome, 1400)
        chrome.delete_all_cookies()
    seconds = time.monotonic() - started
    slowest = sorted(found.seconds.items(), key=lambda item: -item[1])[:3]
    print(
        f"{role}: {len(paths)} pages x {len(WIDTHS)} widths in {seconds:.1f}s; slowest: "
        + ", ".join(f"{where} {took:.1f}s" for where, took in slowest)
    )
    assert len(paths) >= 6, paths
    problems = []
    if found.navigation:
        problems.append("no navigation reachable on: " + ", ".join(found.navigation))
    if found.overflow:
        problems.append("wider than the window: " + "; ".join(found.overflow))
    if found.console:
        problems.append("console errors:\n  " + "\n  ".join(found.console))
    violations = axe_report(found.axe)
    assert not problems, "\n".join(problems) + ("\n\naxe:\n" + violations if violations else "")
    if violations:
        raise AxeViolations(f"axe-core, {role}, critical and serious:\n{violations}")


# --- the phone menu -------------------------------------------------------------------------


def _menu_open(driver) -> bool:
    return driver.execute_script("return document.body.classList.contains('shell-menu-open')")


def _focused_id(driver) -> str:
    return driver.execute_script("return document.activeElement && document.activeElement.id")


def test_the_phone_menu_opens_by_keyboard_and_closes_on_navigation(
    browser, live_server, app_world, window_width
):
    from selenium.webdriver.common.keys import Keys

    window_width(390)
    sign_in(browser, live_server, "admin_a@example.com")
    settle(browser)
    sidebar = browser.find_element(By.ID, "sidebar")
    toggle = browser.find_element(By.ID, MENU_TOGGLE)
    assert not sidebar.is_displayed() or sidebar.rect["x"] + sidebar.rect["width"] <= 0
    assert toggle.get_attribute("aria-expanded") == "false"
    # The header is one line: every part of it sits inside its 3.5rem.
    header = browser.find_element(By.ID, "shell-header").rect
    assert header["height"] <= 57, header
    for part in browser.find_elements(By.CSS_SELECTOR, "#shell-header > *"):
        if part.is_displayed():
            assert part.rect["y"] + part.rect["height"] <= header["height"] + 1, part.rect
    # The page title starts below the header.
    title = browser.find_element(By.CSS_SELECTOR, "#page-body h1, #page-body h2").rect
    assert title["y"] >= header["height"], title

    # Keyboard: the skip link first, then the menu button.
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.text == "Skip to main content"
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert _focused_id(browser) == MENU_TOGGLE
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait(browser, 5).until(lambda d: _menu_open(d) and sidebar.is_displayed())
    assert toggle.get_attribute("aria-expanded") == "true"
    wait(browser, 5).until(lambda d: (_focused_id(d) or "").startswith("nav-"))
    screenshot(browser, "phone-menu-open")
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(browser, 5).until(lambda d: not _menu_open(d))
    assert _focused_id(browser) == MENU_TOGGLE
    assert toggle.get_attribute("aria-expanded") == "false"

    # Following a link navigates and closes the menu.
    toggle.click()
    wait(browser, 5).until(_menu_open)
    wait(browser, 5).until(lambda d: d.find_element(By.ID, "nav-calls").is_displayed())
    browser.find_element(By.ID, "nav-calls").click()
    wait(browser, 10).until(lambda d: d.current_url.endswith("/calls"))
    wait(browser, 5).until(lambda d: not _menu_open(d))
    assert overflow(browser) <= 0


# --- titles and switching organisation ------------------------------------------------------


def test_titles_follow_the_page_and_a_switch_keeps_the_address(browser, live_server, app_world):
    sign_in(browser, live_server, "platform@example.com")
    settle(browser)
    wait(browser).until(lambda d: d.title == "Overview · Alpha Co · syncboard")
    browser.get(live_server + "/calls?direction=inbound")
    settle(browser)
    wait(browser).until(lambda d: d.title == "Calls · Alpha Co · syncboard")

    browser.find_element(By.CSS_SELECTOR, "button#shell-org").click()
    option = wait(browser, 5).until(
        lambda d: next(
            (o for o in d.find_elements(By.CSS_SELECTOR, "[role=option]") if o.text == "Beta Co"),
            None,
        )
    )
    option.click()
    wait(browser).until(lambda d: d.title == "Calls · Beta Co · syncboard")
    assert browser.current_url == live_server + "/calls?direction=inbound"
    settle(browser)
    assert "Beta Co" in browser.find_element(By.ID, "shell-header").text

    browser.find_element(By.ID, "nav-sources").click()  # client-side navigation
    wait(browser).until(lambda d: d.title == "Sources · Beta Co · syncboard")
    browser.get(live_server + "/admin")
    wait(browser).until(lambda d: d.title == "Not found · Beta Co · syncboard")
    assert "Page not found" in browser.find_element(By.ID, "page-body").text


# --- loading states -------------------------------------------------------------------------

# Holds every callback answer for `window.__delay` ms (the page's own fetch, wrapped).
SLOW_CALLBACKS = """
window.__delay = 3000;
const original = window.fetch;
window.fetch = async function (...args) {
  const url = String(args[0] && args[0].url ? args[0].url : args[0]);
  const answer = await original.apply(this, args);
  if (url.includes('_dash-update-component')) {
    await new Promise(done => setTimeout(done, window.__delay));
  }
  return answer;
};
"""

PSEUDO = "return getComputedStyle(document.querySelector(arguments[0]), arguments[1])[arguments[2]]"


def test_the_body_is_never_blank_while_the_app_or_a_page_loads(browser, live_server, app_world):
    sign_in(browser, live_server, "manager_a@example.com")
    settle(browser)
    browser.execute_cdp_cmd("Network.enable", {})
    try:
        # The app's layout does not arrive: the frame's skeleton stands in.
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*_dash-layout*"]})
        browser.get(live_server + "/calls")
        assert browser.execute_script(PSEUDO, "._dash-loading", None, "position") == "fixed"
        shape = browser.execute_script(PSEUDO, "._dash-loading", "::before", "height")
        assert float(shape.removesuffix("px")) > 100, shape
        # The frame is drawn but the page router's answer does not arrive.
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*_dash-update-component*"]})
        browser.get(live_server + "/calls")
        wait(browser).until(lambda d: d.find_elements(By.ID, "_pages_content"))
        children = "return document.getElementById('_pages_content').children.length"
        assert browser.execute_script(children) == 0
        shape = browser.execute_script(PSEUDO, "#_pages_content", "::before", "height")
        assert float(shape.removesuffix("px")) > 100, shape
        screenshot(browser, "loading-skeleton")
    finally:
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        browser.execute_cdp_cmd("Network.disable", {})


def test_content_being_recomputed_dims_with_a_spinner(browser, live_server, app_world):
    sign_in(browser, live_server, "manager_a@example.com")
    settle(browser)
    browser.execute_script(SLOW_CALLBACKS)
    browser.find_element(By.ID, "nav-calls").click()  # client-side: the router's callback
    content = "#_pages_content"

    def loading(d) -> bool:
        return bool(d.find_element(By.CSS_SELECTOR, content).get_attribute("data-dash-is-loading"))

    def opacity(d, pseudo=None) -> float:
        return float(d.execute_script(PSEUDO, content, pseudo, "opacity"))

    wait(browser, 5).until(loading)
    assert opacity(browser) == 1  # not at once: quick answers and polls never flicker
    wait(browser, 3).until(lambda d: opacity(d) < 0.6)
    wait(browser, 3).until(lambda d: opacity(d, "::after") == 1)
    screenshot(browser, "loading-dimmed")
    browser.execute_script("window.__delay = 0")
    wait(browser, 10).until(lambda d: not loading(d))
    assert opacity(browser) == 1


# --- the frame's accessibility --------------------------------------------------------------


def test_the_frame_is_accessible(browser, live_server, app_world):
    from selenium.webdriver.common.keys import Keys

    sign_in(browser, live_server, "platform@example.com")
    settle(browser)
    assert browser.execute_script("return document.documentElement.lang") == "en"
    landmarks = browser.execute_script(
        "return ['header', 'nav', 'main'].map(t => document.querySelectorAll(t).length)"
    )
    assert landmarks == [1, 1, 1], landmarks
    # The skip link is the first stop and takes focus to the page body.
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    assert skip.text == "Skip to main content" and skip.is_displayed()
    skip.send_keys(Keys.ENTER)
    assert _focused_id(browser) == "page-body"
    # The organisation switcher's button is named and takes focus itself; the dropdowns'
    # hidden proxy inputs are out of the tab order.
    name = browser.execute_script(
        "const b = document.querySelector('button#shell-org');"
        "return (b.getAttribute('aria-labelledby') || '').split(' ')"
        ".map(id => document.getElementById(id)).filter(Boolean)"
        ".map(e => e.textContent.trim()).join(' ')"
    )
    assert name.startswith("Organisation Alpha Co"), name
    proxies = browser.execute_script(
        "return [...document.querySelectorAll('.dash-dropdown-focus-target')]"
        ".map(e => [e.tabIndex, e.nextElementSibling.tabIndex])"
    )
    assert proxies and all(p == [-1, 0] for p in proxies), proxies
    # Focus is visible: the next stop after the page body, reached by the keyboard.
    browser.switch_to.active_element.send_keys(Keys.TAB)
    outline = browser.execute_script(
        "let a = document.activeElement;"
        "if (a.classList.contains('btn-check')) { a = a.nextElementSibling; }"  # its label shows it
        "const s = getComputedStyle(a); return [a.tagName, s.outlineStyle, s.outlineWidth]"
    )
    assert outline[1] != "none" and outline[2] != "0px", outline


@pytest.mark.parametrize(
    ("who", "path", "text"),
    [("admin_a", "/admin", "Page not found"), ("agent_a1", "/team", "Not available")],
)
def test_the_not_found_and_denied_pages_pass_axe(
    browser, live_server, app_world, window_width, who, path, text
):
    sign_in(browser, live_server, f"{who}@example.com")
    settle(browser)
    found = {}
    for width in AXE_WIDTHS:
        window_width(width)
        browser.get(live_server + path)
        settle(browser)
        assert text in browser.find_element(By.ID, "page-body").text
        found[f"{path} @{width}"] = run_axe(browser)
    assert not any(found.values()), axe_report(found)
