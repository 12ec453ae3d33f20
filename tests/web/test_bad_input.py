"""Each defect the fuzzer found, one test apiece: bad input is a 4xx with a message, never a 500.

They go through the real app on SQLite and PostgreSQL (the `db` fixture runs both), and
each failed before the fix: ids and offsets past what SQL holds, far dates, booleans
taken for ids, empty numbers, rounded offsets, HTML errors under /api/v1 and Dash's
router meeting a non-string path.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.calls import CallFilters, call_page
from models.connections import get_connection
from models.orgs import User
from models.params import MAX_OFFSET
from models.run_views import history_page
from models.runs import get_run
from models.scope import build_viewer
from models.sync import SyncRun
from models.sync_errors import NotFound
from models.users import create_token
from tests.helpers import dash_post, login, make_connection, run_sync

HUGE = "99999999999999999999"  # > 2**63
ROUTER = ".._pages_content.children..._pages_store.data.."


@pytest.fixture
def tokens(db, world):
    with db.session() as s:
        out = {key: create_token(s, s.get(User, uid)).token for key, uid in world.users.items()}
        s.commit()
    return out


def api(client, method: str, path: str, token: str | None = None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.open("/api/v1" + path, method=method, headers=headers, **kwargs)


def error_of(response) -> str:
    """The message of a JSON error answer (failing if the answer is not one)."""
    assert response.is_json, response.get_data(as_text=True)[:200]
    message = response.get_json()["error"]
    assert isinstance(message, str) and message and "Traceback" not in message
    return message


def viewer_of(db, world, key: str):
    with db.session() as s:
        return build_viewer(s, s.get(User, world.users[key]), None)


def test_huge_ids_are_404_not_500(client, db, world, tokens):
    admin = tokens["admin_a"]
    conn = make_connection(db, world.org_a, "demo", settings={"records": 2, "delay_ms": 0})
    for run_id in (HUGE, str(2**63), str(2**31)):
        assert api(client, "GET", f"/syncs/{run_id}", admin).status_code == 404
        assert api(client, "POST", f"/syncs/{run_id}/cancel", admin).status_code == 404
    started = api(client, "POST", "/syncs", admin, json={"connection": int(HUGE)})
    assert started.status_code == 404 and error_of(started)
    login(client, "admin_a@example.com")
    assert client.get(f"/export/sources/{HUGE}/contacts.csv").status_code == 404
    viewer = viewer_of(db, world, "admin_a")
    with db.session() as s:
        for bad in (2**63, 2**64, -1, 0, "²", "1.5", 1.5, True, None, [conn.id]):
            with pytest.raises(NotFound):
                get_connection(s, viewer, bad)
            with pytest.raises(NotFound):
                get_run(s, viewer, bad)
        assert get_connection(s, viewer, str(conn.id)).id == conn.id
        nothing = history_page(s, viewer, connection_id=2**64)
        assert (nothing.rows, nothing.total) == ([], 0)


def test_pages_past_what_sql_can_skip_are_empty(db, world):
    conn = make_connection(db, world.org_a, "demo", settings={"records": 2, "delay_ms": 0})
    run_sync(conn, "contacts")
    viewer = viewer_of(db, world, "manager_a")
    with db.session() as s:
        page = call_page(s, viewer, CallFilters(), page=2**62, page_size=25)
        assert (page.rows, page.total) == ([], 9)
        assert call_page(s, viewer, CallFilters(), page_size=5, offset=MAX_OFFSET).rows == []
        past = history_page(s, viewer, page=2**62)
        assert (past.rows, past.total) == ([], 1)


def test_huge_offsets_are_refused_or_empty(client, db, world, tokens):
    manager = tokens["manager_a"]
    last = api(client, "GET", f"/calls?offset={MAX_OFFSET}", manager)
    assert last.status_code == 200 and last.get_json()["calls"] == []
    for path in ("/calls", "/syncs"):
        beyond = api(client, "GET", f"{path}?offset={MAX_OFFSET + 1}", manager)
        assert beyond.status_code == 400 and "offset" in error_of(beyond)
    assert api(client, "GET", f"/syncs?connection={HUGE}", manager).status_code == 400


def test_far_dates_are_400_not_500(client, db, world, tokens):
    manager = tokens["manager_a"]
    for query in ("to=9999-12-31", "from=0001-01-01", "from=1999-12-31"):
        for path in ("/kpis", "/calls", "/calls?format=csv&x=1"):
            answer = api(client, "GET", f"{path}{'&' if '?' in path else '?'}{query}", manager)
            assert answer.status_code == 400 and "2100-12-31" in error_of(answer)
    assert api(client, "GET", "/kpis?from=2000-01-01&to=2100-12-31", manager).status_code == 200
    login(client, "manager_a@example.com")
    assert client.get("/export/calls.csv?to=9999-12-31").status_code == 400
    report = client.get(
        "/export/report.csv?metrics=calls_total&range=custom&start=2024-01-01&end=9999-12-31"
    )
    assert report.status_code == 400


def test_org_switcher_refuses_malformed_ids(client, db, world):
    login(client, "platform@example.com")
    client.get("/")
    for forged in ("abc", 1.5, [world.org_a], {"id": 1}, 2**64, "²"):
        answer = dash_post(
            client,
            "shell-redirect.href",
            [{"id": "shell-org", "property": "value", "value": forged}],
            state=[
                {"id": "_pages_location", "property": "pathname", "value": "/"},
                {"id": "_pages_location", "property": "search", "value": ""},
            ],
        )
        assert answer.status_code == 403 and error_of(answer)
    switched = dash_post(
        client,
        "shell-redirect.href",
        [{"id": "shell-org", "property": "value", "value": world.org_b}],
        state=[
            {"id": "_pages_location", "property": "pathname", "value": "/"},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
    )
    assert switched.status_code == 200


def test_limit_zero_is_refused_or_empty(client, db, world, tokens):
    manager = tokens["manager_a"]
    counted = api(client, "GET", "/calls?limit=0", manager)
    assert counted.status_code == 200
    assert counted.get_json() == {"total": 9, "limit": 0, "offset": 0, "calls": []}
    runs = api(client, "GET", "/syncs?limit=0", manager)
    assert runs.status_code == 200 and runs.get_json()["syncs"] == []
    assert api(client, "GET", "/calls?limit=501", manager).status_code == 400


def test_bool_connection_id_is_refused(client, db, world, tokens):
    conn = make_connection(db, world.org_a, "demo", settings={"records": 2, "delay_ms": 0})
    assert conn.id == 1  # the id that True and 1.5 used to start
    for forged in (True, 1.5, 1.0, "1", [1], {"id": 1}, None):
        answer = api(client, "POST", "/syncs", tokens["admin_a"], json={"connection": forged})
        assert answer.status_code == 422 and "connection" in error_of(answer)
    stream = api(client, "POST", "/syncs", tokens["admin_a"], json={"connection": 1, "stream": 5})
    assert stream.status_code == 422
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SyncRun)) == 0


def test_empty_integers_are_refused(client, db, world, tokens):
    manager = tokens["manager_a"]
    for query in ("offset=", "limit=", "agent=", "phone=", "from=", "offset=1.5", "limit=true"):
        answer = api(client, "GET", f"/calls?{query}", manager)
        assert answer.status_code == 400 and error_of(answer), query
    assert api(client, "GET", "/syncs?connection=", manager).status_code == 400


def test_offset_is_not_rounded(client, db, world, tokens):
    manager = tokens["manager_a"]
    every = api(client, "GET", "/calls?limit=9", manager).get_json()["calls"]
    page = api(client, "GET", "/calls?limit=2&offset=3", manager).get_json()
    assert page["offset"] == 3 and [c["id"] for c in page["calls"]] == [c["id"] for c in every[3:5]]


def test_put_calls_is_405_json(client, db, world, tokens):
    manager = tokens["manager_a"]
    put = api(client, "PUT", "/calls", manager)
    assert put.status_code == 405 and "GET" in put.headers["Allow"] and error_of(put)
    cancel = api(client, "GET", "/syncs/1/cancel", manager)
    assert cancel.status_code == 405 and "POST" in cancel.headers["Allow"]
    assert api(client, "DELETE", "/sources", manager).status_code == 405
    for method in ("GET", "PUT", "POST"):
        missing = api(client, method, "/nothing/here", manager)
        assert missing.status_code == 404 and error_of(missing).startswith("No API endpoint")
    assert api(client, "GET", "/", manager).status_code == 404
    assert api(client, "GET", "", manager).status_code == 404


def test_trace_is_json(client, db, world, tokens):
    for path in ("/calls", "/syncs/1", "/nothing"):
        trace = api(client, "TRACE", path, tokens["manager_a"])
        assert trace.status_code in (404, 405) and error_of(trace)
    assert api(client, "TRACE", "/calls").headers["Allow"]
    login(client, "manager_a@example.com")
    page = client.open("/calls", method="TRACE")
    assert page.status_code == 405 and "Traceback" not in page.get_data(as_text=True)


def test_long_url_is_json(client, db, world, tokens):
    for path in ("/calls?q=" + "x" * 5000, "/" + "x" * 5000, "/syncs/" + "9" * 5000):
        long = api(client, "GET", path, tokens["manager_a"])
        assert long.status_code == 414 and "4,096" in error_of(long)
    page = client.get("/calls?q=" + "x" * 5000)
    assert page.status_code == 414 and "Traceback" not in page.get_data(as_text=True)


def test_nul_and_broken_text_are_400(client, db, world, tokens):
    for query in ("q=%00", "stream=a%00b", "x%00=1"):
        for path in ("/calls", "/syncs"):
            answer = api(client, "GET", f"{path}?{query}", tokens["manager_a"])
            assert answer.status_code == 400 and "NUL" in error_of(answer)
    login(client, "manager_a@example.com")
    client.get("/")
    for text in ("\x00", "a\ud800b"):
        search = dash_post(
            client,
            "..sms-table.data...sms-table.page_count...sms-table.page_current...sms-count.children...sms-empty.children...sms-body.className..",
            [
                {"id": "sms-search", "property": "value", "value": text},
                {"id": "sms-table", "property": "page_current", "value": 0},
                {"id": "sms-table", "property": "sort_by", "value": []},
            ],
            state=[{"id": "sms-table", "property": "page_size", "value": 25}],
        )
        assert search.status_code == 400 and error_of(search)


def test_deeply_nested_json_is_400(client, db, world, tokens):
    deep = b"[" * 100_000
    posted = api(
        client, "POST", "/syncs", tokens["admin_a"], data=deep, content_type="application/json"
    )
    assert posted.status_code == 400 and error_of(posted)
    login(client, "admin_a@example.com")
    client.get("/")
    token = client.get_cookie("_csrf_token").value
    forged = client.post(
        "/_dash-update-component",
        data=deep,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert forged.status_code == 400 and error_of(forged)


def router(client, pathname, search):
    return dash_post(
        client,
        ROUTER,
        [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
    )


def test_router_rejects_non_string_pathname(client, db, world):
    login(client, "manager_a@example.com")
    client.get("/")
    for pathname, search in ((5, ""), (None, ""), (["/calls"], ""), ("/calls", 5), ("/", {})):
        answer = router(client, pathname, search)
        assert answer.status_code == 400 and "must be text" in error_of(answer)
    for pathname in ("", "calls", "}@1"):  # Dash raises for a path outside the app's
        answer = router(client, pathname, "")
        assert answer.status_code == 400 and "must lie under /" in error_of(answer)
    assert router(client, "/calls", "?page=²&phone=99999999999999999999").status_code == 200
    assert router(client, "/syncs", "?connection=²").status_code == 200


def test_callbacks_of_another_shape_are_400(client, db, world):
    login(client, "manager_a@example.com")
    client.get("/")
    token = client.get_cookie("_csrf_token").value

    def post(body):
        return client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})

    inputs = [{"id": "overview-auto", "property": "value", "value": True}]
    clientside = {"output": "overview-interval.disabled", "inputs": inputs}
    for body in (
        clientside | {"outputs": {"id": "overview-interval", "property": "disabled"}},
        {"output": "nothing.children", "inputs": [], "outputs": {}},
        {"output": "reports-delete.disabled"},  # no inputs at all
        {
            "output": "reports-delete.disabled",
            "outputs": {"id": "reports-delete", "property": "disabled"},
            "inputs": [{"id": "reports-saved", "property": "value"}],
            "changedPropIds": ["{not json.value"],
        },
        [],
        "text",
    ):
        answer = post(body)
        assert answer.status_code == 400 and error_of(answer), body


def test_server_errors_are_a_sentence_not_a_trace(server):
    """What Flask answers for an unexpected exception, on a page and on a callback."""
    server.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        for path, json_expected in (("/calls", False), ("/_dash-update-component", True)):
            with server.test_request_context(path):
                response = server.handle_exception(RuntimeError('boom at File "x.py"'))
            body = response.get_data(as_text=True)
            assert response.status_code == 500 and response.is_json is json_expected
            assert "boom" not in body and "Traceback" not in body and "went wrong" in body
    finally:
        server.config["PROPAGATE_EXCEPTIONS"] = None
