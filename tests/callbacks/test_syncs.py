"""The sync modal, the live-progress watcher, history, run and stream pages: functions and HTTP.

Forged requests are the point: a manager's POST that starts a sync is refused and creates no
run; another organisation's connection or run ids are refused or ignored.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from sqlalchemy import select

from models.runs import request_run
from models.sync import Connection, SyncRun
from models.sync_options import parse_options
from tests.callbacks.test_sources import (
    as_user,
    call,
    callback_key,
    outputs_of,
    post,
    runs_count,
    signed_client,
    texts,
)
from tests.helpers import dash_post, make_connection, run_sync

FAST = {"records": 40, "delay_ms": 0}
OPTION_STATE = [
    {"id": "syncmodal-flags", "property": "value", "value": ["force"]},
    {"id": "syncmodal-since", "property": "value", "value": None},
    {"id": "syncmodal-max-records", "property": "value", "value": None},
    {"id": "syncmodal-batch-size", "property": "value", "value": 25},
]


def start_request(client, dash_app, target):
    return call(
        client,
        callback_key(dash_app, "..syncwatch-started.data"),
        inputs=[{"id": "syncmodal-start", "property": "n_clicks", "value": 1}],
        state=[*OPTION_STATE, {"id": "syncmodal-target", "property": "data", "value": target}],
    )


def wait_finished(db, run_id: int, timeout: float = 30) -> SyncRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session() as s:
            run = s.get(SyncRun, run_id)
            if run.status not in ("queued", "running"):
                return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish")


def queue_run(db, conn_id: int, stream: str | None = None) -> int:
    with db.session() as s:
        run = request_run(
            s, s.get(Connection, conn_id), stream=stream, options=parse_options({}), trigger="user"
        )
        s.commit()
        return run.id


def watch_request(client, dash_app, *, widgets=(), started=None, state=None):
    """The watcher's POST as the browser sends it, with `widgets` = [(run id, status)] on the page."""
    key = callback_key(dash_app, "..syncwatch-interval.disabled")
    outs = outputs_of(key)
    concrete = []
    for spec in outs:
        if spec["id"].startswith("{"):
            pattern = json.loads(spec["id"])
            concrete.append(
                [
                    {"id": {"run": rid, "type": pattern["type"]}, "property": spec["property"]}
                    for rid, _ in widgets
                ]
            )
        else:
            concrete.append(spec)
    seeds = [
        {"id": {"run": rid, "type": "sync-runwatch"}, "property": "data", "value": status}
        for rid, status in widgets
    ]
    inputs = [
        seeds,
        {"id": "syncwatch-started", "property": "data", "value": started},
        {"id": "syncwatch-interval", "property": "n_intervals", "value": 1},
    ]
    states = [
        [
            {
                "id": {"run": rid, "type": "sync-runwatch"},
                "property": "id",
                "value": {"run": rid, "type": "sync-runwatch"},
            }
            for rid, _ in widgets
        ],
        {"id": "syncwatch-state", "property": "data", "value": state},
        {"id": "syncwatch-toasts", "property": "children", "value": []},
    ]
    changed = ["syncwatch-interval.n_intervals"]
    return post(client, key, concrete, inputs, states, changed)


# --- the modal ------------------------------------------------------------------------------


def test_validate_shows_the_command_and_disables_start_on_errors():
    from callbacks.sync_modal import validate

    def check(*args):
        command, error, disabled, *_marks = validate(*args)
        return command, error, disabled

    target = {"connection": 1, "stream": None, "name": "Demo CRM", "org": "alpha"}
    command, error, disabled = check(["full", "dry_run"], None, None, 500, target)
    assert command == "syncboard sync alpha 'Demo CRM' --full --dry-run"
    assert error == "" and disabled is False
    stream = dict(target, stream="calls")
    command, _, _ = check([], "2024-05-01", "100", "50", stream)
    assert command == (
        "syncboard sync alpha 'Demo CRM' calls --since 2024-05-01 --max-records 100 --batch-size 50"
    )
    assert "contradict" in check(["full"], "2024-05-01", None, 500, target)[1]
    assert validate([], "2999-01-01", None, 500, target)[7] == "Since cannot be in the future"
    assert check([], None, None, 0, target)[2] is True
    assert "at most 10,000" in validate([], None, None, 20000, target)[6]
    assert check([], None, -5, 500, target)[2] is True
    assert validate([], None, None, 500, None)[:3] == ("", "", True)


def test_bad_counts_are_marked_beside_their_fields_and_no_command_is_shown():
    """Max records -5 and Batch size 0 used to be dropped silently with Start enabled."""
    from callbacks.sync_modal import validate

    target = {"connection": 1, "stream": None, "name": "Demo CRM", "org": "alpha"}
    out = validate([], None, "-5", "0", target)
    command, error, disabled, max_bad, max_text, batch_bad, batch_text, since_text = out
    assert command == "" and disabled is True
    assert max_bad is True and max_text == "Max records must be a positive whole number."
    assert batch_bad is True and batch_text == "Batch size must be a whole number from 1 to 10,000."
    assert since_text == "" and error == ""
    for typed in ("2.5", "abc", "1e3", "−5"):
        assert validate([], None, typed, "500", target)[3] is True, typed
    # What the preview shows is exactly what Start would run: typed text, trimmed.
    command, _, disabled, max_bad, *_ = validate(["debug"], None, " 7 ", "500", target)
    assert command == "syncboard sync alpha 'Demo CRM' --debug --max-records 7"
    assert disabled is False and max_bad is False


def open_request(client, dash_app, connection_id, stream=""):
    pattern = {"connection": connection_id, "stream": stream, "type": "sync-open"}
    return dash_post(
        client,
        "..syncmodal.is_open...syncmodal-target.data...syncmodal-title.children"
        "...syncmodal-feedback.children...syncmodal-flags.value...syncmodal-since.value"
        "...syncmodal-max-records.value...syncmodal-batch-size.value..",
        inputs=[
            [{"id": pattern, "property": "n_clicks", "value": 1}],
            {"id": "syncmodal-cancel", "property": "n_clicks", "value": 0},
            {"id": "syncwatch-started", "property": "data", "value": None},
        ],
    )


def test_each_opening_of_the_modal_starts_from_the_defaults(server, db, world, dash_app):
    """Toggles from the last opening (a Dry run left on) used to carry over."""
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    admin = signed_client(server, "admin_a@example.com")
    out = open_request(admin, dash_app, conn.id).get_json()["response"]
    assert out["syncmodal-flags"]["value"] == []
    assert out["syncmodal-since"]["value"] == ""
    assert out["syncmodal-max-records"]["value"] is None
    assert out["syncmodal-batch-size"]["value"] == "500"


@pytest.mark.parametrize(
    "forged",
    [
        {"syncmodal-max-records": "-5"},
        {"syncmodal-batch-size": 0},
        {"syncmodal-batch-size": {"$gt": 1}},
        {"syncmodal-max-records": [1, 2]},
        {"syncmodal-since": "2026-13-45"},
    ],
)
def test_a_forged_start_with_bad_options_is_told_why_and_starts_nothing(
    server, db, world, dash_app, forged
):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    admin = signed_client(server, "admin_a@example.com")
    target = {"connection": conn.id, "stream": None, "name": "Demo CRM", "org": "alpha"}
    state = [dict(item, value=forged.get(item["id"], item["value"])) for item in OPTION_STATE]
    response = call(
        admin,
        callback_key(dash_app, "..syncwatch-started.data"),
        inputs=[{"id": "syncmodal-start", "property": "n_clicks", "value": 1}],
        state=[*state, {"id": "syncmodal-target", "property": "data", "value": target}],
    )
    assert response.status_code == 200
    out = response.get_json()["response"]
    assert "syncwatch-started" not in out
    assert "Nothing was started" in json.dumps(out)
    assert runs_count(db) == 0


def test_opening_the_modal_checks_the_connection_on_the_server(server, db, world, dash_app):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    admin = signed_client(server, "admin_a@example.com")
    out = open_request(admin, dash_app, conn.id, "calls").get_json()["response"]
    assert out["syncmodal"]["is_open"] is True
    assert out["syncmodal-target"]["data"] == {
        "connection": conn.id,
        "stream": "calls",
        "name": "Demo CRM",
        "org": "alpha",
    }
    assert out["syncmodal-title"]["children"] == "Sync Demo CRM / calls"
    foreign = signed_client(server, "admin_b@example.com")
    out = open_request(foreign, dash_app, conn.id).get_json()["response"]
    assert out["syncmodal"]["is_open"] is False and "No connection" in json.dumps(out)
    manager = signed_client(server, "manager_a@example.com")
    assert open_request(manager, dash_app, conn.id).status_code == 403


def test_admin_starts_a_sync_and_the_watcher_toasts_its_end(server, db, world, dash_app):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    admin = signed_client(server, "admin_a@example.com")
    target = {"connection": conn.id, "stream": None, "name": "Demo CRM", "org": "alpha"}
    response = start_request(admin, dash_app, target)
    assert response.status_code == 200
    started = response.get_json()["response"]["syncwatch-started"]["data"]
    run = wait_finished(db, started["run"])
    assert run.status == "success" and run.processed == 80 and run.trigger == "user"
    assert run.options == {"force": True, "batch_size": 25}

    out = watch_request(admin, dash_app, started=started).get_json()["response"]
    assert out["syncwatch-interval"]["disabled"] is True
    toast = json.dumps(out["syncwatch-toasts"]["children"])
    assert "Sync of Demo CRM finished: success, 80 records" in toast
    assert out["syncwatch-finished"]["data"] == {"ids": [run.id], "seq": 1}
    state = out["syncwatch-state"]["data"]
    assert state == {"active": [], "done": [run.id], "seq": 1}
    # The same run is not toasted twice, and an idle page stops polling.
    again = watch_request(admin, dash_app, started=started, state=state).get_json()["response"]
    assert again["syncwatch-interval"]["disabled"] is True
    assert "syncwatch-toasts" not in again


def test_a_page_drawn_running_after_the_run_was_toasted_is_redrawn(server, db, world, dash_app):
    """A 0.1 s run can end before the first poll: the poll toasts it while the page's render,
    which raced it, still draws it running. The watcher used to ignore such widgets (the run
    was done), leaving "running", its bar and Stop up until a reload."""
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    run = run_sync(conn)
    admin = signed_client(server, "admin_a@example.com")
    state = {"active": [], "done": [run.id], "seq": 3}
    out = watch_request(admin, dash_app, widgets=[(run.id, "running")], state=state)
    out = out.get_json()["response"]
    assert out["syncwatch-finished"]["data"] == {"ids": [run.id], "seq": 4}  # the page redraws
    assert "syncwatch-toasts" not in out  # but is not toasted twice
    assert out["syncwatch-interval"]["disabled"] is True
    status = out[json.dumps({"run": run.id, "type": "sync-runstatus"}, separators=(",", ":"))]
    assert "success" in json.dumps(status)
    # Once redrawn without the stale widget, nothing more happens.
    again = watch_request(admin, dash_app, state=out["syncwatch-state"]["data"])
    assert "syncwatch-finished" not in again.get_json()["response"]


def test_watcher_updates_progress_widgets_while_a_run_is_active(server, db, world, dash_app):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    queued = queue_run(db, conn.id, "calls")
    with db.session() as s:
        run = s.get(SyncRun, queued)
        run.status, run.total, run.processed, run.created = "running", 200, 50, 40
        s.commit()
    admin = signed_client(server, "admin_a@example.com")
    out = watch_request(admin, dash_app, widgets=[(queued, "running")]).get_json()["response"]
    assert out["syncwatch-interval"]["disabled"] is False
    bar = out[json.dumps({"run": queued, "type": "sync-runbar"}, separators=(",", ":"))]
    assert bar["value"] == 25.0 and bar["label"] == "25 %" and bar["animated"] is True
    counts = out[json.dumps({"run": queued, "type": "sync-runcounts"}, separators=(",", ":"))]
    assert counts["children"] == "50 / 200 processed · 40 created · 0 updated · 0 failed"
    assert "syncwatch-toasts" not in out

    # Another organisation's admin watching that id learns nothing and polls nothing.
    other = signed_client(server, "admin_b@example.com")
    out = watch_request(other, dash_app, started={"run": queued}).get_json()["response"]
    assert out["syncwatch-interval"]["disabled"] is True
    assert "Demo CRM" not in json.dumps(out)


def test_watch_is_one_cheap_query(db, world):
    """The poll reads only the watched ids, in one statement."""
    from sqlalchemy import event

    from models.orgs import User
    from models.run_views import watch_runs
    from models.scope import build_viewer

    conn = make_connection(db, world.org_a, "demo", name="Demo", settings=FAST)
    ids = [queue_run(db, conn.id, stream) for stream in ("calls", "contacts")]
    statements = []
    with db.session() as s:
        viewer = build_viewer(s, s.get(User, world.users["admin_a"]), None)
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            runs = watch_runs(s, viewer, ids)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert len(runs) == 2 and len(statements) == 1
    assert "debug_log" not in statements[0] and "sync_runs.org_id" in statements[0]


@pytest.mark.parametrize("email", ["manager_a@example.com", "agent_a1@example.com"])
def test_forged_start_by_a_non_admin_is_refused_and_creates_no_run(
    server, db, world, dash_app, email
):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    client = signed_client(server, email)
    target = {"connection": conn.id, "stream": None, "name": "x", "org": "alpha"}
    response = start_request(client, dash_app, target)
    assert response.status_code == 403
    assert (
        "org admins" in response.get_json()["error"] or "permission" in response.get_json()["error"]
    )
    assert runs_count(db) == 0


def test_forged_connection_of_another_org_is_refused(server, db, world, dash_app):
    theirs = make_connection(db, world.org_b, "demo", name="Beta CRM", settings=FAST)
    admin = signed_client(server, "admin_a@example.com")
    target = {"connection": theirs.id, "stream": None, "name": "Beta CRM", "org": "beta"}
    response = start_request(admin, dash_app, target)
    assert response.status_code == 200
    assert "No connection" in json.dumps(response.get_json()["response"])
    garbage = start_request(admin, dash_app, {"connection": "1 OR 1=1", "stream": ["x"]})
    assert garbage.status_code == 200
    assert runs_count(db) == 0


def test_a_second_start_says_already_running(server, db, world, dash_app):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    queued = queue_run(db, conn.id)
    admin = signed_client(server, "admin_a@example.com")
    target = {"connection": conn.id, "stream": "calls", "name": "Demo CRM", "org": "alpha"}
    out = start_request(admin, dash_app, target).get_json()["response"]
    assert "syncwatch-started" not in out
    message = json.dumps(out)
    assert "already queued" in message and f"run {queued}" in message
    assert runs_count(db) == 1


def test_queue_down_is_said_in_words(server, db, world, dash_app):
    from settings import get_settings, reset_settings

    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    admin = signed_client(server, "admin_a@example.com")
    before = get_settings()
    reset_settings(replace(before, redis_url="redis://127.0.0.1:1/0"))
    try:
        target = {"connection": conn.id, "stream": None, "name": "Demo CRM", "org": "alpha"}
        out = start_request(admin, dash_app, target).get_json()["response"]
    finally:
        reset_settings(before)
    assert "unreachable" in json.dumps(out)
    with db.session() as s:
        run = s.scalar(select(SyncRun))
        assert run.status == "failed" and "unreachable" in run.error


# --- history, run and stream pages ----------------------------------------------------------


def history_request(client, dash_app, request=None, watched=None, **filters):
    """The history grid's block request as the browser sends it, filters as State."""
    values = {
        "syncs-connection": None,
        "syncs-stream": None,
        "syncs-status": None,
        "syncs-from": None,
        "syncs-to": None,
    } | filters
    return call(
        client,
        callback_key(dash_app, "..syncs-table.getRowsResponse"),
        inputs=[
            {
                "id": "syncs-table",
                "property": "getRowsRequest",
                "value": request if request is not None else {"startRow": 0, "endRow": 25},
            }
        ],
        state=[
            *({"id": cid, "property": "value", "value": v} for cid, v in values.items()),
            {"id": "syncs-active", "property": "data", "value": watched or []},
        ],
    )


def history_answer(client, dash_app, request=None, **filters) -> tuple[list[dict], int, dict]:
    """(rows, total, whole response) of one history block."""
    out = history_request(client, dash_app, request, **filters).get_json()["response"]
    answer = out["syncs-table"]["getRowsResponse"]
    return answer["rowData"], answer["rowCount"], out


def test_history_filters_and_links(server, db, world, dash_app):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    first = run_sync(conn, "calls")
    second = run_sync(conn, "contacts", dry_run=True)
    theirs = make_connection(db, world.org_b, "demo", name="Beta CRM", settings=FAST)
    run_sync(theirs)
    manager = signed_client(server, "manager_a@example.com")
    rows, total, out = history_answer(manager, dash_app)
    assert total == 2 and out["syncs-count"]["children"] == "2 runs"
    assert [r["id"] for r in rows] == [second.id, first.id]  # newest first
    assert rows[1]["run"] == f"[#{first.id}](/syncs/{first.id})"
    assert rows[1]["connection"] == "Demo CRM" and rows[1]["stream"] == "calls"
    assert rows[1]["trigger"] == "CLI" and rows[1]["status"] == rows[1]["state"] == "success"
    assert rows[1]["processed"] == "40" and rows[1]["at"].endswith("UTC")
    assert "Beta CRM" not in json.dumps(out)
    rows, total, out = history_answer(manager, dash_app, **{"syncs-stream": "calls"})
    assert total == 1 and out["syncs-count"]["children"] == "1 run"
    rows, total, out = history_answer(
        manager, dash_app, **{"syncs-status": "failed", "syncs-from": "2020-01-01"}
    )
    assert (rows, total) == ([], 0) and out["syncs-count"]["children"] == "No runs match"
    # Another organisation's connection, as a filter, matches nothing; so does nonsense.
    for forged in (theirs.id, "1 OR 1=1", -3, 10**30):
        rows, total, _ = history_answer(manager, dash_app, **{"syncs-connection": forged})
        assert (rows, total) == ([], 0), forged
    # Bad dates and statuses are no filter at all.
    rows, total, _ = history_answer(
        manager, dash_app, **{"syncs-status": "x' OR '1", "syncs-to": "2026-13-45"}
    )
    assert total == 2


def test_history_pages_and_sorts_on_the_server(server, db, world, dash_app):
    demo = make_connection(db, world.org_a, "demo", name="Zed CRM", settings=FAST)
    hub = make_connection(db, world.org_a, "demo", name="Alpha CRM", settings=FAST)
    ids = [queue_run(db, (demo if n % 2 else hub).id, f"stream{n}") for n in range(7)]
    admin = signed_client(server, "admin_a@example.com")
    # Blocks of 3: the second block is the next three, newest first.
    rows, total, _ = history_answer(admin, dash_app, {"startRow": 3, "endRow": 6})
    assert total == 7 and [r["id"] for r in rows] == sorted(ids, reverse=True)[3:6]
    # A header click sorts in SQL: by source name, then by run id.
    by_name = {"startRow": 0, "endRow": 25, "sortModel": [{"colId": "connection", "sort": "asc"}]}
    rows, _, _ = history_answer(admin, dash_app, by_name)
    names = [r["connection"] for r in rows]
    assert names == sorted(names) and names[0] == "Alpha CRM"
    rows, _, _ = history_answer(
        admin,
        dash_app,
        {"startRow": 0, "endRow": 25, "sortModel": [{"colId": "run", "sort": "asc"}]},
    )
    assert [r["id"] for r in rows] == sorted(ids)


def test_a_forged_history_request_is_clamped_and_scoped(server, db, world, dash_app):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    mine = run_sync(conn, "calls")
    theirs = make_connection(db, world.org_b, "demo", name="Beta CRM", settings=FAST)
    other = run_sync(theirs, "calls")
    agent = signed_client(server, "agent_a1@example.com")
    for request in (
        {
            "startRow": -50,
            "endRow": 10**9,
            "sortModel": [{"colId": "id; DROP TABLE x", "sort": "asc"}],
        },
        {"startRow": "0", "endRow": "x", "sortModel": "connection"},
        {"startRow": 10**12, "endRow": 10**12 + 25},
        "not a request",
        None,
    ):
        response = history_request(agent, dash_app, request)
        assert response.status_code == 200, request
        answer = response.get_json()["response"]["syncs-table"]["getRowsResponse"]
        assert all(row["id"] == mine.id for row in answer["rowData"]), request
        assert answer["rowCount"] == 1
    # Each organisation sees its own runs only, whatever it asks for.
    rows, total, _ = history_answer(signed_client(server, "admin_b@example.com"), dash_app)
    assert [r["id"] for r in rows] == [other.id] and total == 1
    anonymous = server.test_client()
    assert history_request(anonymous, dash_app).status_code in (401, 403)


def test_history_shows_a_running_run_as_text_and_seeds_the_poll(server, db, world, dash_app):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    rid = queue_run(db, conn.id, "calls")
    with db.session() as s:
        run = s.get(SyncRun, rid)
        run.status, run.total, run.processed = "running", 200, 90
        s.commit()
    queued = queue_run(db, conn.id, "contacts")
    manager = signed_client(server, "manager_a@example.com")
    rows, _, out = history_answer(manager, dash_app)
    status = {r["id"]: r["status"] for r in rows}
    assert status == {rid: "running · 45 %", queued: "queued"}
    seeds = out["syncs-watch"]["children"]
    assert {(c["props"]["id"]["run"], c["props"]["data"]) for c in seeds} == {
        (rid, "running"),
        (queued, "queued"),
    }
    watched = out["syncs-active"]["data"]
    # The same runs on the next refresh: the seeds stay as they are (no new poll request).
    again = history_request(manager, dash_app, watched=watched).get_json()["response"]
    assert "syncs-watch" not in again and "syncs-active" not in again
    with db.session() as s:
        run = s.get(SyncRun, rid)
        run.total, run.processed = None, 1234
        s.commit()
    rows, _, _ = history_answer(manager, dash_app)
    row = next(r for r in rows if r["id"] == rid)
    assert row["status"] == "running · 1,234"
    assert row["status_title"] == "running: 1,234 records so far"


def test_run_page_shows_what_the_run_recorded(server, db, world):
    from callbacks.sync_detail import render

    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    run = run_sync(conn, "calls", debug=True, max_records=30)
    with db.session() as s:
        stored = s.get(SyncRun, run.id)
        stored.error_samples = [{"record": "c-9", "stream": "calls", "reason": "bad number"}]
        s.commit()
    with as_user(server, db, "admin_a@example.com"):
        page = texts(render(str(run.id), None))
    assert f"Run #{run.id}" in page and "syncboard sync alpha 'Demo CRM' calls" in page
    assert "--max-records 30" in page and "bad number" in page and "Debug log" in page
    assert "Records/s" in page and "HTTP time" in page
    assert '"run-retry"' not in page  # it succeeded: nothing to retry
    with as_user(server, db, "manager_a@example.com"):
        page = texts(render(str(run.id), None))
    assert "Debug log" in page and '"run-retry"' not in page
    with as_user(server, db, "admin_b@example.com"):
        page = texts(render(str(run.id), None))
    assert "Run not found" in page and "Demo CRM" not in page


def test_retry_starts_the_same_sync_again(server, db, world, dash_app):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    run = run_sync(conn, "contacts", full=True, batch_size=10)
    with db.session() as s:
        s.get(SyncRun, run.id).status = "partial"  # only an unclean run is retried
        s.commit()
    key = callback_key(dash_app, "..run-location.href")
    inputs = [{"id": "run-retry", "property": "n_clicks", "value": 1}]
    state = [{"id": "run-id", "property": "data", "value": str(run.id)}]
    manager = signed_client(server, "manager_a@example.com")
    assert call(manager, key, inputs, state).status_code == 403
    assert runs_count(db) == 1
    admin = signed_client(server, "admin_a@example.com")
    out = call(admin, key, inputs, state).get_json()["response"]
    with db.session() as s:
        newest = s.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
        assert newest.id != run.id and newest.stream == "contacts"
        assert newest.options == run.options and newest.trigger == "user"
    assert out["run-location"]["href"] == f"/syncs/{newest.id}"
    wait_finished(db, newest.id)


def test_stream_page_summary_errors_and_records(server, db, world, dash_app):
    from callbacks.stream_detail import render

    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    run_sync(conn, "contacts")
    key = {"source": str(conn.id), "stream": "contacts"}
    with as_user(server, db, "admin_a@example.com"):
        crumbs, header, summary, errors = render(key, None, None)
    assert "contacts" in texts(header) and "success" in texts(summary)
    assert "No errors in the recent runs" in texts(errors)
    assert '"sync-open"' in texts(summary)

    client = signed_client(server, "agent_a1@example.com")
    table = callback_key(dash_app, "..stream-rec-table.getRowsResponse")
    request = {
        "startRow": 15,
        "endRow": 30,
        "sortModel": [{"colId": "external_id", "sort": "asc"}],
    }
    inputs = [{"id": "stream-rec-table", "property": "getRowsRequest", "value": request}]

    def state(search: str, stream_key=key) -> list:
        return [
            {"id": "stream-rec-search", "property": "value", "value": search},
            {"id": "stream-key", "property": "data", "value": stream_key},
        ]

    out = call(client, table, inputs, state("demo-contact-")).get_json()["response"]
    answer = out["stream-rec-table"]["getRowsResponse"]
    rows = answer["rowData"]
    assert len(rows) == 15 and answer["rowCount"] == 40
    assert out["stream-rec-count"]["children"] == "40 records"
    assert "raw" not in rows[0] and "org_id" not in rows[0]
    assert rows[0]["external_id"] == sorted(f"demo-contact-{i}" for i in range(40))[15]
    href = out["stream-rec-export"]["href"]
    assert href == f"/export/sources/{conn.id}/contacts.csv?q=demo-contact-"

    calls_key = {"source": str(conn.id), "stream": "calls"}
    agent_calls = call(client, table, inputs, state("", calls_key))
    assert agent_calls.get_json()["response"]["stream-rec-count"]["children"] == "No records match"

    other = signed_client(server, "admin_b@example.com")
    forged = call(other, table, inputs, state("demo-contact-")).get_json()["response"]
    assert forged["stream-rec-table"]["getRowsResponse"] == {"rowData": [], "rowCount": 0}


def test_stream_page_renders_the_record_table_with_model_columns(server, db, world):
    from callbacks.stream_detail import render_table

    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    with as_user(server, db, "manager_a@example.com"):
        table = texts(render_table({"source": str(conn.id), "stream": "calls"}))
        missing = render_table({"source": str(conn.id), "stream": "nope"})
    assert '"Started at"' in table and '"Duration seconds"' in table and '"Raw"' not in table
    assert missing is None
