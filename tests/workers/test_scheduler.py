"""The scheduler queues due syncs once, survives restarts, and refuses overlapping runs."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from models.base import utcnow
from models.db import session_scope
from models.runs import reap_stale_runs
from models.sync import Connection, SyncRun
from models.sync_errors import SyncConflict
from models.sync_options import SyncOptions
from tests.helpers import make_connection, make_org
from workers import scheduler
from workers.service import create_run


def make_due(conn_id: int) -> None:
    with session_scope() as s:
        s.execute(
            update(Connection)
            .where(Connection.id == conn_id)
            .values(next_run_at=utcnow() - timedelta(seconds=5))
        )


def wait_finished(run_id: int) -> SyncRun:
    for _ in range(200):
        with session_scope() as s:
            run = s.get(SyncRun, run_id)
            if run.status not in ("queued", "running"):
                s.expunge(run)
                return run
        time.sleep(0.05)
    raise AssertionError("run did not finish")


def test_a_due_schedule_fires_once(db):
    org = make_org(db)
    conn = make_connection(
        db, org, "demo", settings={"records": 50, "delay_ms": 0}, schedule_minutes=15
    )
    assert scheduler.tick() == []  # not due yet
    make_due(conn.id)
    queued = scheduler.tick()
    assert len(queued) == 1
    assert scheduler.tick() == []  # a restarted scheduler finds the slot already taken
    run = wait_finished(queued[0])
    assert (run.status, run.trigger, run.created) == ("success", "schedule", 100)
    with session_scope() as s:
        nxt = s.scalar(select(Connection.next_run_at).where(Connection.id == conn.id))
    assert timedelta(minutes=14) < nxt - utcnow() <= timedelta(minutes=15)


def test_two_schedulers_racing_claim_a_slot_once(db):
    org = make_org(db)
    conn = make_connection(
        db, org, "demo", settings={"records": 5, "delay_ms": 0}, schedule_minutes=5
    )
    make_due(conn.id)
    assert scheduler.claim_slot(conn.id) is not None
    assert scheduler.claim_slot(conn.id) is None


def test_one_run_per_connection_and_stream(db):
    org = make_org(db)
    conn = make_connection(db, org, "demo", settings={"records": 5})
    first = create_run(conn, "contacts", SyncOptions(), "user", None)
    with pytest.raises(SyncConflict, match="already queued"):
        create_run(conn, "contacts", SyncOptions(), "user", None)
    with pytest.raises(SyncConflict):
        create_run(conn, None, SyncOptions(), "user", None)  # "all streams" overlaps
    other = create_run(conn, "calls", SyncOptions(), "user", None)
    assert other.id != first.id


def test_reaper_fails_runs_whose_heartbeat_stopped(db):
    org = make_org(db)
    conn = make_connection(db, org, "demo", settings={"records": 5})
    run = create_run(conn, None, SyncOptions(), "user", None)
    with session_scope() as s:
        s.execute(
            update(SyncRun)
            .where(SyncRun.id == run.id)
            .values(
                status="running", started_at=utcnow(), heartbeat_at=utcnow() - timedelta(minutes=2)
            )
        )
    with session_scope() as s:
        assert reap_stale_runs(s) == [run.id]
        assert reap_stale_runs(s) == []
        assert s.get(SyncRun, run.id).status == "failed"


def test_sla_check_flags_late_tickets(db):
    from models.records import Ticket

    org = make_org(db)
    now = utcnow()
    with db.session() as s:
        s.add_all(
            [
                Ticket(
                    org_id=org,
                    subject="late open",
                    status="open",
                    due_at=now - timedelta(hours=1),
                    source="t",
                    external_id="1",
                ),
                Ticket(
                    org_id=org,
                    subject="on time open",
                    status="open",
                    due_at=now + timedelta(hours=1),
                    source="t",
                    external_id="2",
                ),
                Ticket(
                    org_id=org,
                    subject="resolved late",
                    status="resolved",
                    due_at=now - timedelta(days=2),
                    resolved_at=now - timedelta(days=1),
                    source="t",
                    external_id="3",
                ),
                Ticket(
                    org_id=org,
                    subject="resolved in time",
                    status="closed",
                    due_at=now - timedelta(days=1),
                    resolved_at=now - timedelta(days=2),
                    source="t",
                    external_id="4",
                ),
                Ticket(
                    org_id=org, subject="no deadline", status="open", source="t", external_id="5"
                ),
            ]
        )
        s.commit()
    scheduler.tick()
    with db.session() as s:
        flagged = set(s.scalars(select(Ticket.external_id).where(Ticket.sla_breached.is_(True))))
    assert flagged == {"1", "3"}
