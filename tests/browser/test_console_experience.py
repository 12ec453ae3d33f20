"""The sync console as a person sees it (issue 11): a run that ends before the first poll, the
sync modal's errors beside its fields, the pages at phone width, and axe-core on each page."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from pages._sync_modal import POLL_MS
from tests.browser.conftest import axe_report, run_axe, screenshot, set_width
from tests.browser.test_signin import sign_in
from tests.browser.test_sync_console import HISTORY_ROW, SYNC_OPEN, settle, visible, wait
from tests.helpers import make_connection, run_sync

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def shot(browser, name: str, readme: str | None = None) -> None:
    """A screenshot into SYNCBOARD_SCREENSHOTS; with SYNCBOARD_README_SHOTS=1 also over the
    README's picture of the same name (docs/screenshots/<readme>.png)."""
    time.sleep(0.3)
    screenshot(browser, name)
    folder = os.environ.get("SYNCBOARD_SCREENSHOTS")
    if readme and folder and os.environ.get("SYNCBOARD_README_SHOTS"):
        shutil.copy(Path(folder) / f"{name}.png", ROOT / "docs" / "screenshots" / f"{readme}.png")


def streams_text(browser) -> str:
    return browser.find_element(By.ID, "source-streams").text


def test_a_run_that_ends_before_the_first_poll_shows_its_end(
    browser, live_server, app_world, sqlite_db
):
    """A 0.1 s run: the badge, the stream rows and Stop follow it within one poll."""
    conn = make_connection(
        sqlite_db, app_world.org_a, "demo", name="Tiny", settings={"records": 5, "delay_ms": 0}
    )
    sign_in(browser, live_server, "admin_a@example.com")
    visible(browser, "#sidebar")
    for attempt in range(3):  # the race is timing-dependent: try it a few times
        browser.get(f"{live_server}/sources/{conn.id}")
        visible(browser, "#stream-row-contacts")
        settle(browser)
        browser.find_element(By.CSS_SELECTOR, "#source-actions " + SYNC_OPEN).click()
        visible(browser, "#syncmodal-start").click()
        visible(browser, ".sync-toast", 20)
        started = time.monotonic()
        wait(browser, POLL_MS / 1000 + 2).until(
            lambda b: "running" not in streams_text(b) and "queued" not in streams_text(b)
        )
        assert time.monotonic() - started < POLL_MS / 1000 + 2, attempt
        assert not browser.find_elements(By.CSS_SELECTOR, '[id*=\'"type":"source-stop"\']')
        assert "success" in browser.find_element(By.ID, "source-header").text
        sync_all = browser.find_element(By.CSS_SELECTOR, "#source-actions " + SYNC_OPEN)
        assert sync_all.is_enabled()


@pytest.mark.parametrize("width", [1440, 390])
def test_the_sync_modal_marks_bad_counts_and_fits(
    browser, live_server, app_world, sqlite_db, width
):
    conn = make_connection(
        sqlite_db, app_world.org_a, "demo", name="Demo CRM", settings={"records": 30}
    )
    run_sync(conn)
    sign_in(browser, live_server, "admin_a@example.com")
    visible(browser, "#sidebar")
    set_width(browser, width)
    try:
        browser.get(f"{live_server}/sources")
        card = visible(browser, f"#source-card-{conn.id}")
        shot(browser, f"console-sources-{width}", "sources" if width == 1440 else None)
        if width == 390:  # status and Sync stay in view on a phone
            for css in (f"#source-health-{conn.id}", SYNC_OPEN):
                box = card.find_element(By.CSS_SELECTOR, css).rect
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, css
        card.find_element(By.CSS_SELECTOR, SYNC_OPEN).click()
        visible(browser, "#syncmodal-flags")
        browser.find_element(By.CSS_SELECTOR, "#syncmodal-flags input[value=dry_run]").click()
        box = browser.find_element(By.ID, "syncmodal-max-records")
        box.send_keys("-5")
        batch = browser.find_element(By.ID, "syncmodal-batch-size")
        batch.send_keys(Keys.CONTROL, "a")
        batch.send_keys("0")
        feedback = visible(browser, "#syncmodal-max-records-feedback")
        assert feedback.text == "Max records must be a positive whole number."
        assert "is-invalid" in box.get_attribute("class")
        wait(browser).until(  # the batch size is checked by a callback of its own keystroke
            lambda b: (
                "from 1 to 10,000" in b.find_element(By.ID, "syncmodal-batch-size-feedback").text
            )
        )
        assert not browser.find_element(By.ID, "syncmodal-start").is_enabled()
        assert browser.find_element(By.ID, "syncmodal-command").text == ""
        dialog = browser.find_element(By.CSS_SELECTOR, ".modal.show .modal-dialog").rect
        assert dialog["x"] >= 0 and dialog["x"] + dialog["width"] <= width + 1
        shot(browser, f"console-sync-modal-error-{width}")
        violations = run_axe(browser)
        assert not violations, axe_report({"sync modal": violations})

        # Fixed, the preview shows exactly what Start runs.
        for field, value in ((box, "7"), (batch, "50")):
            field.send_keys(Keys.CONTROL, "a")
            field.send_keys(value)
        wait(browser).until(lambda b: b.find_element(By.ID, "syncmodal-start").is_enabled())
        command = browser.find_element(By.ID, "syncmodal-command").text
        assert (
            command == "syncboard sync alpha 'Demo CRM' --dry-run --max-records 7 --batch-size 50"
        )
        # A new opening starts from the defaults.
        browser.find_element(By.ID, "syncmodal-cancel").click()
        wait(browser).until(EC.invisibility_of_element_located((By.ID, "syncmodal-flags")))
        card = browser.find_element(By.CSS_SELECTOR, f"#source-card-{conn.id}")
        card.find_element(By.CSS_SELECTOR, SYNC_OPEN).click()
        wait(browser).until(
            lambda b: (
                b.find_element(By.ID, "syncmodal-command").text == "syncboard sync alpha 'Demo CRM'"
            )
        )
        assert browser.find_element(By.ID, "syncmodal-max-records").get_attribute("value") == ""
    finally:
        set_width(browser, 1400)


@pytest.mark.parametrize("width", [1440, 390])
def test_console_pages_fit_and_pass_axe(browser, live_server, app_world, sqlite_db, width):
    conn = make_connection(
        sqlite_db, app_world.org_a, "demo", name="Demo CRM", settings={"records": 30}
    )
    run = run_sync(conn)
    sign_in(browser, live_server, "admin_a@example.com")
    visible(browser, "#sidebar")
    set_width(browser, width)
    found = {}
    try:
        pages = {
            "sources": ("/sources", "#sources-grid > .source-card"),
            "source": (f"/sources/{conn.id}", "#stream-row-contacts"),
            "stream": (f"/sources/{conn.id}/contacts", ".record-grid .ag-row"),
            "history": ("/syncs", HISTORY_ROW),
            "run": (f"/syncs/{run.id}", "#run-title"),
        }
        for name, (path, ready) in pages.items():
            browser.get(live_server + path)
            visible(browser, ready, 20)
            settle(browser)
            if name == "source":
                row = browser.find_element(By.ID, "stream-row-contacts")
                for css in (".stream-status", SYNC_OPEN):
                    box = row.find_element(By.CSS_SELECTOR, css).rect
                    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (name, css)
                shot(browser, f"console-source-{width}")
            wide = browser.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert wide <= 0, (name, wide)
            found[name] = run_axe(browser)
    finally:
        set_width(browser, 1400)
    assert not any(found.values()), axe_report(found)


def test_edit_a_saved_connection_and_a_bad_base_url_is_marked(
    browser, live_server, app_world, sqlite_db
):
    conn = make_connection(sqlite_db, app_world.org_a, "hubspot", name="Sales", token="pat-1")
    sign_in(browser, live_server, "admin_a@example.com")
    visible(browser, "#sidebar")
    browser.get(f"{live_server}/sources/{conn.id}")
    visible(browser, "#source-edit").click()
    name = visible(browser, "#source-name-input")
    wait(browser).until(lambda b: name.get_attribute("value") == "Sales")
    token = browser.find_element(By.CSS_SELECTOR, '[id*=\'"connector":"hubspot","name":"token"\']')
    assert token.get_attribute("value") == "" and "unchanged" in token.get_attribute("placeholder")
    url = browser.find_element(By.ID, "source-base-url")
    url.send_keys("not a url")
    save = browser.find_element(By.ID, "source-settings-save")
    browser.execute_script("arguments[0].click()", save)  # the editor may still be sliding open
    feedback = visible(browser, "#source-base-url-feedback")
    assert "http://" in feedback.text and "is-invalid" in url.get_attribute("class")
    for box in (url, name):  # clear() leaves React's value in place: erase as typed
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.DELETE)
    name.send_keys("Sales pipeline")
    save = browser.find_element(By.ID, "source-settings-save")
    browser.execute_script("arguments[0].click()", save)  # the editor may still be sliding open
    wait(browser).until(lambda b: "Sales pipeline" in b.find_element(By.ID, "source-name").text)


def _history_cells(browser, column: str) -> list[str]:
    """The texts of one column of the history grid's drawn rows, top to bottom (read in one
    script, so a redraw in between cannot leave a stale element)."""
    return browser.execute_script(
        """
        const rows = [...document.querySelectorAll(arguments[0])];
        rows.sort((a, b) => Number(a.getAttribute('row-index')) - Number(b.getAttribute('row-index')));
        return rows.map(row => {
          const cell = row.querySelector(`[col-id='${arguments[1]}']`);
          return cell ? cell.innerText.trim() : null;
        });
        """,
        HISTORY_ROW,
        column,
    )


@pytest.mark.parametrize("width", [1440, 1024, 390])
def test_history_grid_pages_sorts_and_follows_a_running_run(
    browser, live_server, app_world, sqlite_db, width
):
    from models.runs import finish_run, request_run
    from models.sync import Connection, SyncRun
    from models.sync_options import parse_options

    zed = make_connection(sqlite_db, app_world.org_a, "demo", name="Zed CRM")
    alpha = make_connection(sqlite_db, app_world.org_a, "demo", name="Alpha CRM")
    theirs = make_connection(sqlite_db, app_world.org_b, "demo", name="Beta CRM")
    first_id = None
    with sqlite_db.session() as s:
        for n in range(27):
            conn = s.get(Connection, (zed if n % 3 else alpha).id)
            run = request_run(s, conn, stream="calls", options=parse_options({}), trigger="user")
            s.flush()
            finish_run(s, run.id, "success")
            first_id = first_id if n else run.id
        other = request_run(
            s, s.get(Connection, theirs.id), stream=None, options=parse_options({}), trigger="user"
        )
        s.flush()
        finish_run(s, other.id, "failed")
        live = request_run(
            s,
            s.get(Connection, zed.id),
            stream="contacts",
            options=parse_options({}),
            trigger="user",
        )
        live.status, live.total, live.processed = "running", 200, 20
        s.commit()
        live_id = live.id
    sign_in(browser, live_server, "admin_a@example.com")
    visible(browser, "#sidebar")
    set_width(browser, width)
    try:
        browser.get(live_server + "/syncs")
        visible(browser, HISTORY_ROW, 20)
        wait(browser).until(lambda b: b.find_element(By.ID, "syncs-count").text == "28 runs")
        wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, HISTORY_ROW)) == 25)
        assert "Beta CRM" not in browser.find_element(By.ID, "syncs-table").text
        # The running run, newest, says how far it is, and moves with the poll.
        assert _history_cells(browser, "status")[0] == "running · 10 %"
        with sqlite_db.session() as s:
            s.get(SyncRun, live_id).processed = 100
            s.commit()
        wait(browser, 10).until(lambda b: _history_cells(b, "status")[0] == "running · 50 %")
        if width == 390:  # the key columns stay on a phone, the counts make room
            for column in ("run", "started", "connection", "status"):
                cell = browser.find_element(By.CSS_SELECTOR, f"{HISTORY_ROW} [col-id='{column}']")
                box = cell.rect
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, column
            assert not browser.find_elements(By.CSS_SELECTOR, f"{HISTORY_ROW} [col-id='stream']")
        wide = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert wide <= 0, wide
        shot(browser, f"console-history-grid-{width}")
        violations = run_axe(browser)
        assert not violations, axe_report({"history": violations})
        with sqlite_db.session() as s:
            finish_run(s, live_id, "success")
        wait(browser, 10).until(lambda b: _history_cells(b, "status")[0] == "success")
        visible(browser, ".sync-toast")

        # The second page holds the last three, on the server's order. (Clicked by script:
        # the toast may sit over the pager on a phone.)
        click = "arguments[0].click()"
        pager = "#syncs-table .ag-paging-button[aria-label='{}']"
        browser.execute_script(
            click, browser.find_element(By.CSS_SELECTOR, pager.format("Next Page"))
        )
        wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, HISTORY_ROW)) == 3)
        wait(browser).until(lambda b: _history_cells(b, "run")[-1] == f"#{first_id}")
        # A header click sorts the whole history on the server.
        header = "#syncs-table .ag-header-cell[col-id='connection'] .ag-header-cell-label"
        browser.execute_script(click, browser.find_element(By.CSS_SELECTOR, header))
        browser.execute_script(
            click, browser.find_element(By.CSS_SELECTOR, pager.format("First Page"))
        )
        wait(browser).until(lambda b: _history_cells(b, "connection")[:9] == ["Alpha CRM"] * 9)
        assert _history_cells(browser, "connection")[9:] == ["Zed CRM"] * 16
        # The run link opens its page.
        link = browser.find_element(By.CSS_SELECTOR, f"{HISTORY_ROW} [col-id='run'] a")
        target = link.get_attribute("href")
        link.click()
        visible(browser, "#run-title")
        assert browser.current_url == target
    finally:
        set_width(browser, 1400)
