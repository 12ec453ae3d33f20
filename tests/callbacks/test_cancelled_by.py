"""Who cancelled a run: recorded from the source page's Stop and from the API, and named on
the run page, in the source page's last-run line and in the history's rows (issue 11)."""

from __future__ import annotations

import json

from models.orgs import User
from models.run_views import history_page, run_detail
from models.runs import finish_run, request_cancel, request_run
from models.scope import build_viewer
from models.source_views import source_detail
from models.sync import Connection, SyncRun
from models.sync_options import parse_options
from models.users import create_token
from tests.callbacks.test_sources import as_user, signed_client, texts
from tests.helpers import dash_post, make_connection

FAST = {"records": 40, "delay_ms": 0}


def queue_run(db, conn_id: int, stream: str | None = None, status: str = "queued") -> int:
    with db.session() as s:
        conn = s.get(Connection, conn_id)
        run = request_run(s, conn, stream=stream, options=parse_options({}), trigger="user")
        run.status = status
        s.commit()
        return run.id


def test_stop_on_the_source_page_names_who_asked(server, db, world, dash_app):
    from callbacks.source_detail import render as source_render
    from callbacks.sync_detail import render as run_render

    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    run_id = queue_run(db, conn.id, "calls", status="running")
    admin = signed_client(server, "admin_a@example.com")
    stop = [[{"id": {"run": run_id, "type": "source-stop"}, "property": "n_clicks", "value": 1}]]
    assert dash_post(admin, "source-message.children", inputs=stop).status_code == 200
    with db.session() as s:
        run = s.get(SyncRun, run_id)
        assert run.cancel_requested and run.cancelled_by_id == world.users["admin_a"]
    with as_user(server, db, "manager_a@example.com"):
        assert "Stop requested by admin_a" in texts(run_render(str(run_id), None))
    # A second Stop (another admin, or a second click) keeps the first one's name.
    with db.session() as s:
        other = build_viewer(s, s.get(User, world.users["platform"]), world.org_a)
        request_cancel(s, other, run_id)
        s.commit()
        assert s.get(SyncRun, run_id).cancelled_by_id == world.users["admin_a"]
    # The worker stops it at its next batch.
    with db.session() as s:
        finish_run(s, run_id, "cancelled", error="Cancelled by request.")
    with as_user(server, db, "manager_a@example.com"):
        page = texts(run_render(str(run_id), None))
        header = texts(source_render(str(conn.id), None, None, 0)[0])
    assert "Cancelled by admin_a" in page and '"run-cancelled-by"' in page
    assert f"Last run #{run_id} (calls)" in header and "Cancelled by admin_a" in header
    assert f"/syncs/{run_id}" in header


def test_a_cancel_through_the_api_names_the_token_user(client, db, world):
    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    run_id = queue_run(db, conn.id)
    with db.session() as s:
        token = create_token(s, s.get(User, world.users["admin_a"])).token
        s.commit()
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post(f"/api/v1/syncs/{run_id}/cancel", headers=headers)
    assert response.status_code == 202 and response.get_json()["status"] == "cancelled"
    admin = _viewer(db, world, "admin_a")
    with db.session() as s:
        assert s.get(SyncRun, run_id).cancelled_by_id == world.users["admin_a"]
        assert run_detail(s, admin, run_id)["cancelled_by"] == "admin_a"
        [row] = history_page(s, admin).rows
        assert row["cancelled_by"] == "admin_a"
        from connectors.catalog import connector_facts

        last = source_detail(s, admin, conn.id, catalogue=connector_facts()).last_run
    assert last is not None and last["id"] == run_id and last["cancelled_by"] == "admin_a"


def test_runs_nobody_cancelled_or_whose_canceller_is_gone_name_no_one(server, db, world):
    from callbacks.sync_detail import render as run_render

    conn = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    done = queue_run(db, conn.id, "calls")
    with db.session() as s:
        finish_run(s, done, "success")
    gone = queue_run(db, conn.id, "contacts")
    with db.session() as s:
        leaver = User(email="leaver@example.com", name="Leaver", password_hash="x")
        s.add(leaver)
        s.flush()
        s.get(SyncRun, gone).cancelled_by_id = leaver.id
        s.commit()
        finish_run(s, gone, "cancelled")
        s.delete(s.get(User, leaver.id))
        s.commit()
        assert s.get(SyncRun, gone).cancelled_by_id is None
    with as_user(server, db, "admin_a@example.com"):
        for rid in (done, gone):
            page = texts(run_render(str(rid), None))
            assert "Cancelled by" not in page and '"run-cancelled-by"' not in page
    assert "Leaver" not in json.dumps(page)


def _viewer(db, world, key: str):
    with db.session() as s:
        return build_viewer(s, s.get(User, world.users[key]), None)
