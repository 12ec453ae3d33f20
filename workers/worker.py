"""`syncboard worker`: an RQ worker with a reaper thread, models imported before it forks.

It listens on the connection-test queue first and the sync queue second, so a test
pressed while syncs wait is taken by the next free worker ahead of them.
"""

from __future__ import annotations

import logging
import threading

import models  # noqa: F401  (import the models once, before RQ forks a work-horse per job)
from models.connection_checks import purge_stale_checks
from models.db import session_scope
from models.runs import reap_stale_runs
from workers.queue import CHECKS_QUEUE, QUEUE_NAME, redis_connection

log = logging.getLogger("syncboard.worker")


def _reaper(stop: threading.Event, every: float = 15.0) -> None:
    while not stop.wait(every):
        try:
            with session_scope() as db:
                reaped = reap_stale_runs(db)
                purge_stale_checks(db)
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
        queues = [Queue(name, connection=conn) for name in (CHECKS_QUEUE, QUEUE_NAME)]
        worker = Worker(queues, connection=conn)
        return worker.work(burst=burst, logging_level="INFO")
    finally:
        stop.set()
