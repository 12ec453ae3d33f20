"""The sync console's queries on real SQLite and PostgreSQL: health, streams, polls, records.

They cover models/source_views.py, run_views.py, stream_views.py and source_admin.py together,
since each test walks a source from its card to its runs and records.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from connectors.catalog import connector_facts
from models.base import utcnow
from models.credentials import decrypt_credentials, encrypt_credentials
from models.orgs import User
from models.records import Call, Contact
from models.run_views import history_filters, history_page, run_detail, sync_target, watch_runs
from models.runs import finish_run, request_run
from models.scope import AccessDenied, build_viewer
from models.source_admin import add_connection, delete_connection, update_connection
from models.source_views import health_of, source_cards, source_detail
from models.stream_views import (
    export_header,
    export_rows,
    humanise,
    stream_columns,
    stream_records,
    stream_summary,
)
from models.sync import Connection, SyncRun, SyncState
from models.sync_errors import NotFound, SyncConflict
from models.sync_options import parse_options
from tests.helpers import make_connection, run_sync

FAST = {"records": 60, "delay_ms": 0}
CAT = connector_facts()


def viewer_for(db, world, key: str, org_id: int | None = None):
    with db.session() as s:
        return build_viewer(s, s.get(User, world.users[key]), org_id)


def queue_run(db, conn_id: int, stream: str | None = None, **options) -> int:
    with db.session() as s:
        conn = s.get(Connection, conn_id)
        run = request_run(s, conn, stream=stream, options=parse_options(options), trigger="user")
        s.commit()
        return run.id


def set_status(db, run_id: int, status: str, **values) -> None:
    with db.session() as s:
        finish_run(s, run_id, status, **values)


def test_health_is_the_worst_latest_status():
    assert health_of([], False) == "never"
    assert health_of(["success", "partial"], False) == "partial"
    assert health_of(["success", "failed", "partial"], False) == "failed"
    assert health_of(["success"], True) == "running"


def test_source_cards_show_health_last_sync_and_active_runs(db, world):
    admin = viewer_for(db, world, "admin_a")
    demo = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    make_connection(db, world.org_a, "hubspot", name="Sales HubSpot", token="secret-1")
    make_connection(db, world.org_b, "demo", name="Beta demo", settings=FAST)

    with db.session() as s:
        cards = {c.name: c for c in source_cards(s, admin, catalogue=CAT)}
    assert set(cards) == {"Demo CRM", "Sales HubSpot"}  # org B's connection is not listed
    assert cards["Demo CRM"].health == "never" and cards["Demo CRM"].last_sync is None
    assert cards["Demo CRM"].streams == 2 and cards["Demo CRM"].icon == "magic"
    assert cards["Sales HubSpot"].label == "HubSpot"

    run = run_sync(demo)
    assert run.status == "success"
    with db.session() as s:
        card = source_cards(s, admin, "demo crm", catalogue=CAT)[0]
    assert card.health == "success" and card.last_sync is not None and card.active == []

    # A newer failed run of one stream makes the source red; an active run makes it blue.
    failed = queue_run(db, demo.id, "calls")
    set_status(db, failed, "failed", error="boom")
    with db.session() as s:
        assert source_cards(s, admin, "Demo CRM", catalogue=CAT)[0].health == "failed"
    active = queue_run(db, demo.id, "contacts")
    with db.session() as s:
        card = source_cards(s, admin, "Demo CRM", catalogue=CAT)[0]
    assert card.health == "running" and [r["id"] for r in card.active] == [active]

    # A newer all-streams run supersedes the failed stream run.
    set_status(db, active, "cancelled")
    whole = queue_run(db, demo.id)
    set_status(db, whole, "success")
    with db.session() as s:
        assert source_cards(s, admin, "Demo CRM", catalogue=CAT)[0].health == "success"


def test_search_matches_name_and_connector_label(db, world):
    admin = viewer_for(db, world, "admin_a")
    make_connection(db, world.org_a, "demo", name="Warehouse", settings=FAST)
    make_connection(db, world.org_a, "hubspot", name="Sales")
    with db.session() as s:
        assert [c.name for c in source_cards(s, admin, "ware", catalogue=CAT)] == ["Warehouse"]
        assert [c.name for c in source_cards(s, admin, "hubspot", catalogue=CAT)] == ["Sales"]
        assert [c.name for c in source_cards(s, admin, "Demo data", catalogue=CAT)] == ["Warehouse"]
        assert source_cards(s, admin, "%", catalogue=CAT) == []


def test_source_detail_counts_records_per_stream_scoped_to_the_viewer(db, world):
    demo = make_connection(db, world.org_a, "demo", name="Demo", settings=FAST)
    run_sync(demo)
    admin = viewer_for(db, world, "admin_a")
    agent = viewer_for(db, world, "agent_a1")
    with db.session() as s:
        detail = source_detail(s, admin, demo.id, catalogue=CAT)
        streams = {row.name: row for row in detail.streams}
        assert streams["contacts"].records == 60 and streams["calls"].records == 60
        assert streams["calls"].status == "success" and streams["calls"].active is None
        assert detail.token_saved is False and detail.needs_token is False
        # Agents see only calls on their numbers: none of the demo's.
        agent_streams = {
            row.name: row for row in source_detail(s, agent, demo.id, catalogue=CAT).streams
        }
        assert agent_streams["calls"].records == 0
        assert agent_streams["contacts"].records == 60
        with pytest.raises(NotFound):
            source_detail(s, viewer_for(db, world, "admin_b"), demo.id, catalogue=CAT)


def test_watch_runs_reads_only_the_viewers_org(db, world):
    mine = make_connection(db, world.org_a, "demo", name="Mine", settings=FAST)
    theirs = make_connection(db, world.org_b, "demo", name="Theirs", settings=FAST)
    a = queue_run(db, mine.id)
    b = queue_run(db, theirs.id)
    admin = viewer_for(db, world, "admin_a")
    with db.session() as s:
        runs = watch_runs(s, admin, [a, b, "x", str(a)])
    assert [r["id"] for r in runs] == [a]
    assert runs[0]["status"] == "queued" and runs[0]["connection"] == "Mine"


def test_stream_records_page_search_sort_and_columns(db, world):
    demo = make_connection(db, world.org_a, "demo", name="Demo", settings=FAST)
    run_sync(demo)
    admin = viewer_for(db, world, "admin_a")
    keys = [k for k, _ in stream_columns("contacts")]
    assert "raw" not in keys and "org_id" not in keys and "external_id" in keys
    assert humanise("external_id") == "External ID" and humanise("started_at") == "Started at"
    with db.session() as s:
        first = stream_records(s, admin, demo.id, "contacts", page_size=25, catalogue=CAT)
        assert first.total == 60 and len(first.rows) == 25 and first.page_count == 3
        last = stream_records(s, admin, demo.id, "contacts", page=2, page_size=25, catalogue=CAT)
        assert len(last.rows) == 10
        found = stream_records(
            s, admin, demo.id, "contacts", search="demo-contact-7", catalogue=CAT
        )
        assert {r["external_id"] for r in found.rows} == {"demo-contact-7"}
        ordered = stream_records(
            s, admin, demo.id, "contacts", sort="external_id", descending=True, catalogue=CAT
        )
        ids = [r["external_id"] for r in ordered.rows]
        assert ids == sorted(ids, reverse=True)
        # A forged sort key never reaches SQL; a foreign org's source is not found.
        assert (
            stream_records(s, admin, demo.id, "contacts", sort="raw; drop", catalogue=CAT).total
            == 60
        )
        with pytest.raises(NotFound):
            stream_records(s, viewer_for(db, world, "admin_b"), demo.id, "contacts", catalogue=CAT)
        with pytest.raises(NotFound):
            stream_records(s, admin, demo.id, "deals", catalogue=CAT)


def test_export_streams_every_scoped_row(db, world):
    demo = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    run_sync(demo)
    admin = viewer_for(db, world, "admin_a")
    agent = viewer_for(db, world, "agent_a1")
    with db.session() as s:
        export = export_header(s, admin, demo.id, "calls", catalogue=CAT)
        assert export.name_parts == ("Demo CRM", "calls") and "Started at" in export.header
        rows = list(export_rows(s, admin, demo.id, "calls", catalogue=CAT))
        assert len(rows) == 60 and len(rows[0]) == len(export.header)
        assert list(export_rows(s, agent, demo.id, "calls", catalogue=CAT)) == []
        assert (
            len(list(export_rows(s, admin, demo.id, "contacts", "demo-contact-1", catalogue=CAT)))
            == 11
        )


def test_stream_summary_has_latest_run_and_sampled_errors(db, world):
    demo = make_connection(db, world.org_a, "demo", name="Demo", settings=FAST)
    old = queue_run(db, demo.id, "calls")
    set_status(db, old, "partial")
    with db.session() as s:
        s.get(SyncRun, old).error_samples = [
            {"record": "c-1", "stream": "calls", "reason": "bad phone"},
            {"record": "x-1", "stream": "contacts", "reason": "other stream"},
        ]
        s.commit()
    admin = viewer_for(db, world, "admin_a")
    with db.session() as s:
        summary = stream_summary(s, admin, demo.id, "calls", catalogue=CAT)
    assert summary["latest"]["id"] == old and summary["latest"]["status"] == "partial"
    assert [(e["record"], e["reason"]) for e in summary["errors"]] == [("c-1", "bad phone")]


def test_history_filters_and_pages(db, world):
    demo = make_connection(db, world.org_a, "demo", name="Demo", settings=FAST)
    other = make_connection(db, world.org_a, "hubspot", name="Hub")
    ids = []
    for n in range(7):
        rid = queue_run(db, demo.id, "calls" if n % 2 else "contacts")
        set_status(db, rid, "success" if n < 5 else "failed")
        ids.append(rid)
    hub = queue_run(db, other.id)
    theirs = make_connection(db, world.org_b, "demo", name="B", settings=FAST)
    queue_run(db, theirs.id)
    admin = viewer_for(db, world, "admin_a")
    with db.session() as s:
        page = history_page(s, admin, page_size=3)
        assert page.total == 8 and [r["id"] for r in page.rows] == [hub, ids[6], ids[5]]
        assert page.rows[0]["connection"] == "Hub" and page.rows[0]["trigger"] == "user"
        page = history_page(s, admin, page=2, page_size=3)
        assert [r["id"] for r in page.rows] == [ids[1], ids[0]]
        assert history_page(s, admin, connection_id=demo.id, status="failed").total == 2
        assert history_page(s, admin, stream="calls").total == 3
        later = utcnow() + timedelta(days=1)
        assert history_page(s, admin, start=later).total == 0
        assert history_page(s, admin, end=later).total == 8
        # Sorted on a whitelisted column, the id breaking ties; anything else is newest first.
        page = history_page(s, admin, sort="status", descending=False)
        assert [r["status"] for r in page.rows] == ["failed"] * 2 + ["queued"] + ["success"] * 5
        assert [r["id"] for r in page.rows][:2] == [ids[5], ids[6]]
        forged = history_page(s, admin, sort="org_id", descending=False, page=10**15)
        assert forged.rows == [] and forged.total == 8
        assert [r["id"] for r in history_page(s, admin, sort="org_id").rows][0] == hub
        assert history_page(s, admin, connection_id="1 OR 1=1").total == 0
        choices = history_filters(s, admin, catalogue=CAT)
    assert [name for _id, name in choices["connections"]] == ["Demo", "Hub"]
    assert {"calls", "contacts", "deals"} <= set(choices["streams"])


def test_run_detail_gives_the_equivalent_command(db, world):
    demo = make_connection(db, world.org_a, "demo", name="Demo CRM", settings=FAST)
    run = run_sync(demo, "contacts", full=True, batch_size=20, debug=True)
    admin = viewer_for(db, world, "admin_a")
    with db.session() as s:
        detail = run_detail(s, admin, run.id)
        assert detail["command"] == (
            "syncboard sync alpha 'Demo CRM' contacts --full --debug --batch-size 20"
        )
        assert detail["processed"] == 60 and detail["pages"] >= 1
        assert detail["debug_log"] and "batch" in detail["debug_log"]
        assert sync_target(s, admin, demo.id, "calls", catalogue=CAT)["org"] == "alpha"
        with pytest.raises(NotFound):
            run_detail(s, viewer_for(db, world, "admin_b"), run.id)
        with pytest.raises(NotFound):
            sync_target(s, admin, demo.id, "nope", catalogue=CAT)


def test_add_update_and_delete_are_for_admins(db, world):
    admin = viewer_for(db, world, "admin_a")
    manager = viewer_for(db, world, "manager_a")
    with db.session() as s:
        with pytest.raises(AccessDenied):
            add_connection(s, manager, connector="demo", name="Nope", catalogue=CAT)
        conn = add_connection(
            s,
            admin,
            connector="hubspot",
            name="Hub",
            token="tok-123",
            schedule_minutes=15,
            catalogue=CAT,
        )
        s.commit()
        cid = conn.id
        assert conn.schedule_enabled and conn.created_by_id == world.users["admin_a"]
        with pytest.raises(ValueError, match="already has a connection named"):
            add_connection(s, admin, connector="demo", name="Hub", catalogue=CAT)
        with pytest.raises(ValueError, match="Choose a connector"):
            add_connection(s, admin, connector="nope", name="X", catalogue=CAT)
        with pytest.raises(AccessDenied):
            update_connection(s, manager, cid, token="evil", catalogue=CAT)
        update_connection(
            s, admin, cid, base_url=" https://example.test ", token="tok-456", catalogue=CAT
        )
        s.commit()
        stored = s.get(Connection, cid)
        assert stored.base_url == "https://example.test"
        assert decrypt_credentials(stored.credentials_encrypted) == {"token": "tok-456"}
        assert "tok-456" not in stored.credentials_encrypted


def test_credentials_are_dropped_when_the_address_moves_to_another_origin(db, world):
    admin = viewer_for(db, world, "admin_a")
    conn = make_connection(db, world.org_a, "hubspot", token="tok-123")  # the default base URL
    with db.session() as s:
        for same in ("https://api.hubapi.com", "HTTPS://API.HubAPI.com:443/", ""):
            saved = update_connection(s, admin, conn.id, base_url=same, catalogue=CAT)
            assert not saved.credentials_cleared and saved.connection.credentials_encrypted
        for moved in ("http://api.hubapi.com", "https://api.hubapi.com:8443", "https://evil.test"):
            update_connection(s, admin, conn.id, base_url="", token="tok-123", catalogue=CAT)
            saved = update_connection(s, admin, conn.id, base_url=moved, catalogue=CAT)
            assert saved.credentials_cleared, moved
            assert saved.connection.credentials_encrypted == ""
        assert not update_connection(
            s, admin, conn.id, base_url="https://x.test", catalogue=CAT
        ).credentials_cleared
        s.commit()
    mighty = make_connection(db, world.org_a, "mightycall", name="Phones", token="key")
    with db.session() as s:
        stored = s.get(Connection, mighty.id)
        stored.credentials_encrypted = encrypt_credentials({"token": "key", "secret": "user"})
        saved = update_connection(
            s, admin, mighty.id, base_url="https://other.test", token="k2", catalogue=CAT
        )
        assert not saved.credentials_cleared
        assert decrypt_credentials(stored.credentials_encrypted) == {"token": "k2"}  # no old secret


def test_delete_keeps_synced_records_and_removes_runs_and_cursors(db, world):
    demo = make_connection(db, world.org_a, "demo", name="Demo", settings=FAST)
    run_sync(demo)
    admin = viewer_for(db, world, "admin_a")
    with db.session() as s:
        with pytest.raises(AccessDenied):
            delete_connection(s, viewer_for(db, world, "manager_a"), demo.id)
        with pytest.raises(NotFound):
            delete_connection(s, viewer_for(db, world, "admin_b"), demo.id)
    active = queue_run(db, demo.id, "calls")
    with db.session() as s, pytest.raises(SyncConflict):
        delete_connection(s, admin, demo.id)
    set_status(db, active, "cancelled")
    with db.session() as s:
        assert delete_connection(s, admin, demo.id) == "Demo"
        s.commit()
    with db.session() as s:
        assert s.get(Connection, demo.id) is None
        assert s.scalar(select(func.count(SyncRun.id)).where(SyncRun.connection_id == demo.id)) == 0
        assert s.scalar(select(func.count(SyncState.id))) == 0
        kept = s.scalar(
            select(func.count(Contact.id)).where(
                Contact.org_id == world.org_a, Contact.source == "demo"
            )
        )
        assert kept == 60
        assert s.scalar(select(func.count(Call.id)).where(Call.source == "demo")) == 60
        # Kept, detached: no connection keeps them in sync, the one that brought them is known.
        owners = s.execute(select(Contact.connection_id, Contact.origin_connection_id)).all()
        assert set(owners) == {(None, demo.id)}


def test_a_demo_connection_counts_lists_and_purges_only_what_it_synced(db):
    """Seeded demo rows share the source "demo" but no connection brought them."""
    from models.demo_data import seed_demo

    seeded = seed_demo(db.engine, orgs=1, calls=120, cases=5, contacts=30, seed=3)
    org = seeded.org_ids[0]
    email = next(e for e, role in seeded.users if role == "org_admin")
    with db.session() as s:
        admin = build_viewer(s, s.scalar(select(User).where(User.email == email)), org)
    demo = make_connection(db, org, "demo", name="Demo", settings=FAST)
    run_sync(demo)
    with db.session() as s:
        streams = {
            row.name: row.records for row in source_detail(s, admin, demo.id, catalogue=CAT).streams
        }
        assert streams == {"contacts": 60, "calls": 60}
        page = stream_records(s, admin, demo.id, "calls", page_size=100, catalogue=CAT)
        assert page.total == 60 and all(r["external_id"].startswith("demo-") for r in page.rows)
        assert len(list(export_rows(s, admin, demo.id, "calls", catalogue=CAT))) == 60
        assert s.scalar(select(func.count(Call.id)).where(Call.org_id == org)) == 180
        delete_connection(s, admin, demo.id, purge_demo_records=True)
        s.commit()
    with db.session() as s:
        assert s.scalar(select(func.count(Call.id)).where(Call.org_id == org)) == 120
        assert s.scalar(select(func.count(Contact.id)).where(Contact.org_id == org)) == 30


def test_a_stream_page_shows_its_own_share_of_an_all_streams_run(db, world):
    demo = make_connection(db, world.org_a, "demo", name="Demo", settings=FAST)
    run = run_sync(demo)
    assert (run.stream, run.processed, run.created) == (None, 120, 120)
    admin = viewer_for(db, world, "admin_a")
    with db.session() as s:
        latest = stream_summary(s, admin, demo.id, "calls", catalogue=CAT)["latest"]
        assert (latest["id"], latest["stream"], latest["stream_figures"]) == (run.id, None, True)
        assert (latest["total"], latest["processed"], latest["created"]) == (60, 60, 60)
        # A run from before per-stream counting keeps its totals (the page says "all streams").
        s.get(SyncRun, run.id).stats = {}
        s.commit()
        latest = stream_summary(s, admin, demo.id, "calls", catalogue=CAT)["latest"]
        assert (latest["processed"], latest["stream_figures"]) == (120, False)


def test_a_table_connection_lists_only_the_stream_it_loads(db, world):
    calls = make_connection(
        db,
        world.org_a,
        "csv",
        name="Calls file",
        settings={"path": "uploads/calls.csv", "model": "calls"},
    )
    guessed = make_connection(
        db, world.org_a, "csv", name="Any file", settings={"path": "uploads/any.csv"}
    )
    admin = viewer_for(db, world, "admin_a")
    with db.session() as s:
        assert [row.name for row in source_detail(s, admin, calls.id, catalogue=CAT).streams] == [
            "calls"
        ]
        assert source_cards(s, admin, "Calls file", catalogue=CAT)[0].streams == 1
        with pytest.raises(NotFound):
            stream_records(s, admin, calls.id, "contacts", catalogue=CAT)
        every = [row.name for row in source_detail(s, admin, guessed.id, catalogue=CAT).streams]
        assert every == ["contacts", "calls", "cases", "tickets"]


def test_stream_tables_name_the_rows_their_ids_point_at(db, world):
    """Agent and phone number are shown by name, resolved in SQL (so sort and search use
    the names too); an agent who is not a member of the organisation is not named."""
    from models.orgs import PhoneNumber

    demo = make_connection(db, world.org_a, "demo", name="Demo", settings=FAST)
    run_sync(demo, "calls")
    with db.session() as s:
        s.get(User, world.users["agent_a1"]).name = "Dana Reyes"
        number = s.get(PhoneNumber, world.numbers["a1"]).number
        calls = s.scalars(select(Call).where(Call.connection_id == demo.id).order_by(Call.id))
        first, second, *_rest = list(calls)
        first.agent_id, first.phone_number_id = world.users["agent_a1"], world.numbers["a1"]
        second.agent_id = world.users["admin_b"]  # a user of another organisation
        first_id, second_id = first.id, second.id
        s.commit()
    headers = dict(stream_columns("calls"))
    assert headers.get("agent") == "Agent" and headers.get("phone_number") == "Phone number"
    assert "agent_id" not in headers and "phone_number_id" not in headers
    admin = viewer_for(db, world, "admin_a")
    with db.session() as s:
        page = stream_records(s, admin, demo.id, "calls", page_size=100, catalogue=CAT)
        rows = {r["id"]: r for r in page.rows}
        assert rows[first_id]["agent"] == "Dana Reyes" and rows[first_id]["phone_number"] == number
        assert rows[second_id]["agent"] == ""
        found = stream_records(s, admin, demo.id, "calls", search="dana rey", catalogue=CAT)
        assert [r["id"] for r in found.rows] == [first_id]
        ordered = stream_records(s, admin, demo.id, "calls", sort="agent", catalogue=CAT)
        assert ordered.rows[0]["id"] == first_id
        header = export_header(s, admin, demo.id, "calls", catalogue=CAT).header
        assert "Agent" in header and "Agent ID" not in header
