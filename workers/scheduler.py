"""The scheduler: enqueue due syncs, fail runs whose worker died, flag SLA breaches.

Each due connection's `next_run_at` is moved forward with a compare-and-set before its
run is queued, so a restarted scheduler — or two of them — never queues a slot twice.
"""

from __future__ import annotations

import logging
import threading
import time

from models.connection_checks import purge_stale_checks
from models.connections import claim_schedule_slot, due_connection_ids
from models.db import session_scope
from models.runs import reap_stale_runs
from models.sync import Connection
from models.sync_errors import SyncConflict
from models.sync_options import SyncOptions
from models.tickets import mark_sla_breaches
from workers import queue

log = logging.getLogger("syncboard.scheduler")
TICK_SECONDS = 10.0


def due_connections() -> list[int]:
    with session_scope() as db:
        return due_connection_ids(db)


def claim_slot(connection_id: int) -> Connection | None:
    """Move next_run_at forward iff nobody else did; the winner queues the run."""
    with session_scope() as db:
        conn = claim_schedule_slot(db, connection_id)
        if conn is not None:
            db.expunge(conn)
        return conn


def tick() -> list[int]:
    """One pass: reap stale runs, queue every due connection. Returns the run ids queued."""
    from workers.service import create_run, enqueue

    with session_scope() as db:
        reaped = reap_stale_runs(db)
        purge_stale_checks(db)
    if reaped:
        log.warning("marked stale runs failed: %s", reaped)
    with session_scope() as db:
        breached = mark_sla_breaches(db)
    if breached:
        log.info("%d ticket(s) passed their SLA deadline", breached)
    queued = []
    for connection_id in due_connections():
        conn = claim_slot(connection_id)
        if conn is None:
            continue
        try:
            run = create_run(conn, None, SyncOptions(), "schedule", None)
            enqueue(run)
            queued.append(run.id)
            log.info("scheduled sync of %s queued as run %s", conn.name, run.id)
        except SyncConflict as exc:
            log.info("skipped scheduled sync of %s: %s", conn.name, exc)
        except queue.QueueUnavailable as exc:
            log.error("could not queue scheduled sync of %s: %s", conn.name, exc)
    return queued


def run_forever(stop: threading.Event | None = None, tick_seconds: float = TICK_SECONDS) -> None:
    stop = stop or threading.Event()
    log.info("scheduler started (every %.0fs)", tick_seconds)
    while not stop.is_set():
        started = time.monotonic()
        try:
            tick()
        except Exception:  # noqa: BLE001 - keep scheduling through a bad pass
            log.exception("scheduler pass failed")
        stop.wait(max(tick_seconds - (time.monotonic() - started), 0.5))


_embedded: threading.Thread | None = None


def start_embedded() -> None:
    """In the embedded mode (no Redis) the app process schedules and reaps by itself."""
    global _embedded
    if _embedded is None or not _embedded.is_alive():
        _embedded = threading.Thread(target=run_forever, daemon=True, name="syncboard-scheduler")
        _embedded.start()
