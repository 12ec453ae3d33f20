"""`syncboard worker`: an RQ worker with a reaper thread, models imported before it forks."""

from __future__ import annotations

import logging
import threading

import models  # noqa: F401  (import the models once, before RQ forks a work-horse per job)
from models.db import session_scope
from models.sync_store import reap_stale_runs
from workers.queue import QUEUE_NAME, redis_connection

log = logging.getLogger("syncboard.worker")


def _reaper(stop: threading.Event, every: float = 15.0) -> None:
    while not stop.wait(every):
        try:
            with session_scope() as db:
                reaped = reap_stale_runs(db)
            if reaped:
                log.warning("marked stale runs failed: %s", reaped)
        except Exception:  # noqa: BLE001
            log.warning("reaper pass failed", exc_info=True)


def run_worker(*, burst: bool = False) -> bool:
    from rq import Queue, Worker

    import connectors  # noqa: F401  (register every connector before forking)

    conn = redis_connection()
    stop = threading.Event()
    with session_scope() as db:
        reap_stale_runs(db)
    reaper = threading.Thread(target=_reaper, args=(stop,), daemon=True, name="reaper")
    reaper.start()
    try:
        worker = Worker([Queue(QUEUE_NAME, connection=conn)], connection=conn)
        return worker.work(burst=burst, logging_level="INFO")
    finally:
        stop.set()
