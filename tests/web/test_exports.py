"""CSV exports: scoped per viewer, exactly the filtered rows, formula-safe, optional BOM, streamed.

The first half calls the response builders of `web.exports` directly (inside a request
context); the second half goes through the HTTP routes, which need the `exports`
blueprint registered in app.py.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from models.base import utcnow
from models.calls import CALL_EXPORT_HEADER
from models.db import session_scope
from models.orgs import User
from models.records import Call
from models.reports import parse_definition, run_report
from models.scope import AccessDenied, build_viewer
from tests.helpers import login
from tests.models.test_calls import EVIL_CONTACT, EVIL_FROM, add_many_calls, add_records
from web.exports import calls_export, export_href, report_export

BOM = b"\xef\xbb\xbf"


def viewer_for(db, world, key):
    with db.session() as s:
        return build_viewer(s, s.get(User, world.users[key]), None)


def run(server, builder, viewer, params: dict):
    """(response, body bytes) of an export builder, as the route would produce them."""
    with server.test_request_context("/export"):
        response = builder(viewer, MultiDict(params))
    return response, b"".join(response.iter_encoded())


def rows_of(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def direct_count(db, *where) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Call).where(*where))


def test_an_agents_export_holds_only_their_numbers(server, db, world):
    add_records(db, world)
    response, body = run(server, calls_export, viewer_for(db, world, "agent_a1"), {})
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    rows = rows_of(body)
    assert rows[0] == list(CALL_EXPORT_HEADER)
    assert len(rows) - 1 == direct_count(db, Call.phone_number_id == world.numbers["a1"]) == 4
    assert {r[1] for r in rows[1:]} == {"a1"}
    # a forged filter for another agent's number or another org's number finds nothing
    for forged in (world.numbers["a2"], world.numbers["b1"]):
        _, body = run(server, calls_export, viewer_for(db, world, "agent_a1"), {"phone": forged})
        assert rows_of(body) == [list(CALL_EXPORT_HEADER)]


def test_export_holds_exactly_the_filtered_rows(server, db, world):
    add_records(db, world)
    add_many_calls(db, world.org_a, world.numbers["a3"], 120, agent_id=world.users["agent_a2"])
    manager = viewer_for(db, world, "manager_a")
    today = utcnow().date()
    cases = [
        ({}, [Call.org_id == world.org_a]),
        (
            {"status": "answered", "phone": world.numbers["a3"]},
            [Call.phone_number_id == world.numbers["a3"], Call.status == "answered"],
        ),
        (
            {"q": "+1444", "direction": "outbound"},
            [Call.from_number.like("+1444%"), Call.direction == "outbound"],
        ),
        (
            {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()},
            [Call.org_id == world.org_a, Call.source == "test"],
        ),
    ]
    for params, where in cases:
        _, body = run(server, calls_export, manager, params)
        assert len(rows_of(body)) - 1 == direct_count(db, *where), params


def test_export_neutralises_formulas_and_names_the_file(server, db, world):
    add_records(db, world)
    today = utcnow().date()
    params = {"from": "2026-01-01", "to": today.isoformat(), "q": "hyperlink"}
    response, body = run(server, calls_export, viewer_for(db, world, "manager_a"), params)
    (row,) = rows_of(body)[1:]
    assert row[4] == "'" + EVIL_FROM
    assert row[6] == "'" + EVIL_CONTACT
    assert b"\n=HYPERLINK" not in body and b",=HYPERLINK" not in body
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="calls-alpha-2026-01-01-to-{today.isoformat()}.csv"'
    )
    response, _ = run(server, calls_export, viewer_for(db, world, "admin_b"), {})
    assert response.headers["Content-Disposition"].endswith('filename="calls-beta-all-dates.csv"')


def test_bom_is_optional(server, db, world):
    manager = viewer_for(db, world, "manager_a")
    _, with_bom = run(server, calls_export, manager, {"bom": "1"})
    _, without = run(server, calls_export, manager, {})
    assert with_bom.startswith(BOM + b"Time (UTC),")
    assert without.startswith(b"Time (UTC),")
    assert with_bom[len(BOM) :] == without


def test_bad_filters_are_a_400_with_a_message(server, db, world):
    response, body = run(server, calls_export, viewer_for(db, world, "manager_a"), {"phone": "x"})
    assert response.status_code == 400
    assert b"The phone number must be a positive whole number." in body


def test_a_big_export_streams(server, db, world):
    add_many_calls(db, world.org_a, world.numbers["a1"], 20_000)
    response, body = run(server, calls_export, viewer_for(db, world, "agent_a1"), {"bom": "1"})
    assert response.is_streamed
    assert body.count(b"\n") == 20_000 + 4 + 1


def test_report_export_is_exactly_the_table_shown(server, db, world):
    add_records(db, world)
    manager = viewer_for(db, world, "manager_a")
    params = MultiDict(
        [("metrics", "calls_total"), ("metrics", "answer_rate,aht"), ("group", "number")]
    )
    with server.test_request_context("/export"):
        response = report_export(manager, params)
    rows = rows_of(b"".join(response.iter_encoded()))
    with session_scope() as s:
        spec = parse_definition({"metrics": "calls_total,answer_rate,aht", "group": "number"})
        shown = run_report(s, manager, spec)
    assert rows[0] == ["Number", "Total calls", "Answer rate", "Average handle time"]
    assert rows[1:] == [[str(v) for v in row] for row in shown.table()]
    assert rows[1] == ["a1 · +15550000000", "4", "75.0%", "3:02"]
    assert "report-alpha-" in response.headers["Content-Disposition"]

    response, body = run(server, report_export, manager, {"metrics": "revenue", "group": "day"})
    assert response.status_code == 400 and b"Unknown metric 'revenue'" in body
    with server.test_request_context("/export"):
        try:
            report_export(viewer_for(db, world, "agent_a1"), MultiDict({"metrics": "calls_total"}))
        except AccessDenied:
            pass
        else:
            raise AssertionError("an agent exported a report")


# --- through HTTP (needs `web.exports.bp` registered in app.py) ----------------------------


def signed_in(server, email):
    client = server.test_client()
    login(client, email)
    return client


def test_route_needs_a_signed_in_user(client, world):
    response = client.get("/export/calls.csv")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_route_scopes_an_agents_export(server, db, world):
    add_records(db, world)
    agent = signed_in(server, "agent_a1@example.com")
    response = agent.get("/export/calls.csv?bom=1")
    assert response.status_code == 200 and response.is_streamed
    body = response.get_data()
    assert body.startswith(BOM)
    rows = rows_of(body)
    assert len(rows) == 5 and {r[1] for r in rows[1:]} == {"a1"}
    assert "'" + EVIL_FROM in {r[4] for r in rows}
    forged = agent.get(f"/export/calls.csv?phone={world.numbers['a2']}")
    assert rows_of(forged.get_data()) == [list(CALL_EXPORT_HEADER)]
    assert agent.get("/export/calls.csv?from=nope").status_code == 400
    assert agent.get("/export/report.csv?metrics=calls_total").status_code == 403


def test_route_exports_a_report_for_a_manager(server, world):
    manager = signed_in(server, "manager_a@example.com")
    response = manager.get("/export/report.csv?metrics=calls_total,calls_missed&group=number")
    assert response.status_code == 200
    rows = rows_of(response.get_data())
    assert rows == [
        ["Number", "Total calls", "Missed"],
        ["a1 · +15550000000", "4", "1"],
        ["a2 · +15550000001", "3", "1"],
        ["a3 · +15550000002", "2", "0"],
    ]
    bad = manager.get("/export/report.csv?metrics=calls_total&group=office")
    assert bad.status_code == 400
    assert bad.get_json() == {
        "error": "Total calls cannot be grouped by office: group by day, week, month, "
        "agent or number, or leave that metric out."
    }


def test_export_href_keeps_the_filters():
    href = export_href("export/calls.csv", {"q": "a b", "phone": "3"})
    assert href == "/export/calls.csv?q=a+b&phone=3&bom=1"


def test_every_formula_start_is_neutralised_and_nothing_else_changes():
    import csv
    import io
    from datetime import date, datetime

    from web.csv_export import DANGEROUS, csv_lines

    risky = [f"{first}cmd|' /C calc'!A0" for first in DANGEROUS]
    safe = ["", "plain", "a=b", " =1", "'quoted", "2026-01-01"]
    others = [0, 42, None, date(2026, 1, 2), datetime(2026, 1, 2, 3, 4, 5)]
    rows = [risky, safe, others]
    text = "".join(csv_lines(["h"] * 7, rows))
    parsed = list(csv.reader(io.StringIO(text)))[1:]
    assert parsed[0] == ["'" + value for value in risky]
    assert parsed[1] == safe
    assert parsed[2] == ["0", "42", "", "2026-01-02", "2026-01-02T03:04:05"]
