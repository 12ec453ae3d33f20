"""Google Sheet CSV exports over real HTTP against the fake, through the real engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from connectors.base import AuthError, ConnectorError, UnreachableError
from connectors.gsheet import GoogleSheetConnector, export_url
from models.orgs import PhoneNumber
from models.records import Call, Contact, Ticket
from tests.conftest import free_port
from tests.fakes.base import Response
from tests.fakes.gsheet import CALL_HEADER, EPOCH, FakeGoogleSheets, call_row
from tests.helpers import count_rows, make_connection, make_org, run_sync

SHEET = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-sheet"


@pytest.fixture
def sheets():
    fake = FakeGoogleSheets().start()
    fake.add_call_sheet(SHEET, 450)
    yield fake
    fake.stop()


@pytest.fixture
def org(db):
    return make_org(db)


def connect(db, org: int, url: str, name: str = "Call log", **settings):
    return make_connection(
        db, org, "gsheet", base_url=url, settings={"model": "calls", **settings}, name=name
    )


def test_full_load_reads_the_sheet_once_and_maps_rows(db, sheets, org):
    run = run_sync(connect(db, org, sheets.export_link(SHEET)), "calls")
    assert (run.status, run.processed, run.created, run.updated, run.failed) == (
        "success",
        450,
        450,
        0,
        0,
    )
    assert run.total == 450
    assert (run.stats["requests"], run.stats["pages"]) == (1, 5)
    assert [(r.path, r.query) for r in sheets.log] == [
        (f"/spreadsheets/d/{SHEET}/export", {"format": "csv", "gid": "0"})
    ]
    assert sheets.log[0].headers["accept"].startswith("text/csv")
    assert count_rows(db, Call, org) == 450
    with db.session() as s:
        call = s.scalar(select(Call).where(Call.external_id == "call-33"))
        assert (call.status, call.direction, call.source) == ("answered", "inbound", "gsheet")
        assert call.started_at == EPOCH + timedelta(minutes=7 * 33)
        assert (call.duration_seconds, call.from_number) == (93, "+15550000033")
        assert s.get(PhoneNumber, call.phone_number_id).number == "+18005550000"
        assert call.raw == dict(zip(CALL_HEADER, call_row(33), strict=True))
        outbound = s.scalar(select(Call).where(Call.external_id == "call-8"))
        assert (outbound.direction, outbound.status, outbound.duration_seconds) == (
            "outbound",
            "voicemail",
            0,
        )


def test_resync_counts_created_updated_and_unchanged(db, sheets, org):
    conn = connect(db, org, sheets.export_link(SHEET))
    assert run_sync(conn, "calls").created == 450
    sheets.edit(SHEET, "call-1", "status", "answered")  # was missed
    sheets.edit(SHEET, "call-2", "Duration", "45")
    sheets.edit(SHEET, "call-301", "direction", "outbound")  # was inbound
    sheets.append(SHEET, call_row(450), call_row(451))
    sheets.log.clear()
    run = run_sync(conn, "calls")
    assert run.status == "success"
    # no cursor: the whole sheet is read again and unchanged rows are counted as such
    assert (run.processed, run.created, run.updated, run.unchanged) == (452, 2, 3, 447)
    assert len(sheets.log) == 1 and "since" not in sheets.log[0].query
    assert count_rows(db, Call, org) == 452
    with db.session() as s:
        got = dict(
            s.execute(
                select(Call.external_id, Call.status).where(
                    Call.external_id.in_(["call-1", "call-451"])
                )
            ).all()
        )
        assert got == {"call-1": "answered", "call-451": "missed"}
        assert s.scalar(select(Call.duration_seconds).where(Call.external_id == "call-2")) == 45
        assert s.scalar(select(Call.direction).where(Call.external_id == "call-301")) == "outbound"
    again = run_sync(conn, "calls")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 452)


def test_bad_rows_make_the_run_partial(db, sheets, org):
    bad_date = call_row(450)
    bad_date[1] = "yesterday"
    bad_status = call_row(451)
    bad_status[2] = "busy"
    short = ["call-452", "2024-03-01 10:00"]  # the fake pads it like Google does
    sheets.append(SHEET, bad_date, bad_status, short)
    run = run_sync(connect(db, org, sheets.export_link(SHEET)), "calls")
    assert (run.status, run.processed, run.created, run.failed) == ("partial", 453, 450, 3)
    assert run.error_samples == [
        {
            "record": "call-450",
            "stream": "calls",
            "reason": "row 452: started_at 'yesterday' is not a date",
        },
        {
            "record": "call-451",
            "stream": "calls",
            "reason": "row 453: status 'busy' is not one of answered, missed, voicemail",
        },
        {"record": "call-452", "stream": "calls", "reason": "row 454: status is empty"},
    ]
    assert count_rows(db, Call, org) == 450


def test_dry_run_writes_nothing(db, sheets, org):
    run = run_sync(connect(db, org, sheets.export_link(SHEET)), "calls", dry_run=True)
    assert (run.status, run.processed, run.created) == ("success", 450, 450)
    assert count_rows(db, Call, org) == 0
    assert count_rows(db, PhoneNumber, org) == 0


def test_max_records(db, sheets, org):
    run = run_sync(connect(db, org, sheets.export_link(SHEET)), "calls", max_records=120)
    assert (run.status, run.processed, run.created) == ("success", 120, 120)
    assert count_rows(db, Call, org) == 120


def test_429_storm_is_survived_and_recorded(db, sheets, org):
    sheets.fail_next(5, 429, retry_after=0)
    run = run_sync(connect(db, org, sheets.export_link(SHEET)), "calls")
    assert (run.status, run.created) == ("success", 450)
    assert run.stats["retries"] == 5 and run.stats["requests"] == 6
    assert len(sheets.log) == 6


def test_a_500_and_a_body_cut_short_are_fetched_again(db, sheets, org):
    sheets.fail_next(1, 500)
    sheets.truncate_next(1)
    run = run_sync(connect(db, org, sheets.export_link(SHEET)), "calls")
    assert (run.status, run.created, run.failed) == ("success", 450, 0)
    assert run.stats["retries"] == 2 and len(sheets.log) == 3


def test_published_link_and_editor_links(db, sheets, org):
    sheets.add_sheet(
        SHEET,
        ["id", "Subject", "Priority", "Status"],
        [[f"t{n}", f"Subject {n}", "high", "open"] for n in range(7)],
        gid=123,
    )
    run = run_sync(
        connect(db, org, sheets.published_link(SHEET, gid=123), model="tickets"), "tickets"
    )
    assert (run.status, run.created) == ("success", 7)
    assert sheets.log[-1].path == f"/spreadsheets/d/e/2PACX-{SHEET}/pub"
    assert sheets.log[-1].query == {"gid": "123", "single": "true", "output": "csv"}
    with db.session() as s:
        assert s.scalar(select(Ticket.priority).where(Ticket.external_id == "t3")) == "high"
    editor = f"{sheets.url}/spreadsheets/d/{SHEET}/edit#gid=123"
    message = GoogleSheetConnector(base_url=editor, settings={}).test_connection()
    assert message == (
        "Found 7 rows in 4 columns. They load as tickets (matched: id, subject, status, priority)."
    )
    assert sheets.log[-1].query == {"format": "csv", "gid": "123"}


def test_export_url_normalises_google_links():
    base = "https://docs.google.com/spreadsheets/d/ABC_123-x"
    assert export_url(f"{base}/edit#gid=42") == f"{base}/export?format=csv&gid=42"
    assert export_url(f"{base}/edit?usp=sharing") == f"{base}/export?format=csv"
    assert export_url(f"{base}/edit", gid="7") == f"{base}/export?format=csv&gid=7"
    assert export_url(f"{base}/export?format=csv&gid=0") == f"{base}/export?format=csv&gid=0"
    pub = "https://docs.google.com/spreadsheets/d/e/2PACX-1vQ"
    assert export_url(f"{pub}/pubhtml?gid=5&single=true") == (
        f"{pub}/pub?single=true&gid=5&output=csv"
    )
    assert export_url(f"{pub}/pub?output=csv") == f"{pub}/pub?output=csv"
    other = "https://example.com/data/calls.csv?token=x"
    assert export_url(other) == other


def test_connection_reports_rows_columns_and_missing_ones(sheets):
    """In our column names: the header row is the remote answer's first line, never echoed."""
    url = sheets.export_link(SHEET)
    assert GoogleSheetConnector(base_url=url, settings={"model": "calls"}).test_connection() == (
        "Found 450 rows in 9 columns. They load as calls (matched: id, started_at, status, "
        "direction, from_number, to_number, duration_seconds, phone_number, agent_email)."
    )
    with pytest.raises(ConnectorError) as caught:
        GoogleSheetConnector(base_url=url, settings={"model": "cases"}).test_connection()
    assert str(caught.value) == (
        "Found 450 rows in 9 columns. Missing required column(s) for cases: title, reported_at"
    )
    sheets.add_sheet("odd", ["Started At", "Duration"], [["2024-01-01", "5"]])
    with pytest.raises(ConnectorError) as caught:
        GoogleSheetConnector(base_url=sheets.export_link("odd")).test_connection()
    assert str(caught.value).startswith("Cannot tell what the sheet's rows are")
    assert "Started At" not in str(caught.value) and "Duration" not in str(caught.value)


def test_unpublished_sheet_gives_a_clear_message(db, sheets, org):
    sheets.sheets[SHEET].access = "private"
    url = sheets.export_link(SHEET)
    with pytest.raises(ConnectorError) as caught:
        GoogleSheetConnector(base_url=url, settings={}).test_connection()
    assert str(caught.value).startswith(
        "The sheet is not published to the web: Google answered with its sign-in page; "
        "in Google Sheets use File → Share → Publish to web"
    )
    assert sheets.log[-1].path == "/ServiceLogin"
    run = run_sync(connect(db, org, url), "calls")
    assert run.status == "failed"
    assert run.error.startswith("The sheet is not published to the web")
    assert count_rows(db, Call, org) == 0


def test_forbidden_sheet_is_an_auth_error(db, sheets, org):
    sheets.sheets[SHEET].access = "forbidden"
    url = sheets.export_link(SHEET)
    with pytest.raises(
        AuthError, match=r"^The sheet is not published to the web: Google answered HTTP 403; in"
    ):
        GoogleSheetConnector(base_url=url).test_connection()
    run = run_sync(connect(db, org, url), "calls")
    assert run.status == "failed"
    assert run.error.startswith("The sheet is not published to the web: Google answered HTTP 403")
    assert len(sheets.log) == 2  # an auth answer is not retried


def test_unknown_sheets_and_tabs(sheets):
    with pytest.raises(ConnectorError, match=r"No such sheet \(HTTP 404\): check the link"):
        GoogleSheetConnector(base_url=sheets.export_link("nope")).test_connection()
    with pytest.raises(ConnectorError, match=r"No such sheet \(HTTP 400\)"):
        GoogleSheetConnector(base_url=sheets.export_link(SHEET, gid=99)).test_connection()


def test_a_web_page_answer_is_not_taken_for_csv():
    class HtmlSheets(FakeGoogleSheets):
        def handle(self, request):
            return Response(200, "<!DOCTYPE html><html><body>Hello</body></html>", {})

    fake = HtmlSheets().start()
    try:
        with pytest.raises(ConnectorError) as caught:
            GoogleSheetConnector(base_url=f"{fake.url}/some/page").test_connection()
    finally:
        fake.stop()
    assert "answered with a web page, not CSV: the link must be the sheet's CSV link" in str(
        caught.value
    )


def test_unreachable_and_missing_link():
    url = f"http://127.0.0.1:{free_port()}/spreadsheets/d/x/export?format=csv"
    connector = GoogleSheetConnector(base_url=url, settings={"max_retries": 0})
    with pytest.raises(UnreachableError, match="cannot reach 127.0.0.1:.*connection refused"):
        connector.test_connection()
    with pytest.raises(ConnectorError, match="No sheet link yet"):
        GoogleSheetConnector(base_url="").test_connection()


def test_every_stream_of_a_run_shares_one_download(db, sheets, org):
    sheets.add_sheet(
        "contacts-sheet",
        ["id", "First Name", "Last Name", "Email", "Updated At"],
        [
            [f"p{n}", f"First{n}", f"Last{n}", f"p{n}@example.com", "2024-01-02T03:04:05Z"]
            for n in range(5)
        ],
    )
    conn = make_connection(
        db, org, "gsheet", base_url=sheets.export_link("contacts-sheet"), name="People"
    )
    run = run_sync(conn)  # every stream; no model set: the columns say contacts
    assert (run.status, run.created) == ("success", 5)
    assert len(sheets.log) == 1
    with db.session() as s:
        contact = s.scalar(select(Contact).where(Contact.external_id == "p3"))
        assert (contact.first_name, contact.email) == ("First3", "p3@example.com")
        assert contact.updated_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
