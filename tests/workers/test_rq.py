"""Real Redis, real `syncboard worker` processes: queued syncs, SIGKILL mid-run, cancel, Redis down."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from rq import Worker
from rq.job import Job
from sqlalchemy import func, select

from models.db import session_scope
from models.records import Contact
from models.runs import request_cancel
from models.scope import Viewer
from models.sync import ConnectionCheck, SyncRun
from models.sync_options import SyncOptions
from settings import get_settings, reset_settings
from tests.conftest import free_port
from tests.fakes.hubspot import FakeHubSpot
from tests.helpers import count_rows, make_connection, make_org
from workers import queue
from workers.service import check_connection, check_saved_connection, create_run, enqueue

SYNCBOARD = str(Path(sys.executable).with_name("syncboard"))


@pytest.fixture
def redis_mode(db, redis_url):
    reset_settings(replace(get_settings(), redis_url=redis_url))
    queue.redis_connection().flushdb()
    yield redis_url


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Workers:
    def __init__(self, db_url: str, redis_url: str):
        self.env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url}
        self.procs: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        proc = subprocess.Popen(
            [SYNCBOARD, "worker"],
            env=self.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the worker and its work-horse (RQ puts it in its own session): no cleanup."""
        for pid in [*descendants(proc.pid), proc.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs:
            for pid in descendants(proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def workers(db, redis_mode):
    pool = Workers(db.url, redis_mode)
    yield pool
    pool.stop_all()


@pytest.fixture
def hubspot():
    fake = FakeHubSpot(contacts=1500).start()
    yield fake
    fake.stop()


def wait_for(run_id: int, predicate, timeout: float = 60.0) -> SyncRun:
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as s:
            run = s.get(SyncRun, run_id)
            s.expunge(run)
        if predicate(run):
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} stuck: {run.status} {run.processed} {run.error}")
        time.sleep(0.2)


def finished(run: SyncRun) -> bool:
    return run.status in ("success", "partial", "failed", "cancelled")


def queue_sync(conn, **options) -> SyncRun:
    run = create_run(conn, "contacts", SyncOptions(**options), "api", None)
    return enqueue(run)


def test_sync_runs_on_a_real_rq_worker(db, workers, hubspot):
    org = make_org(db)
    conn = make_connection(db, org, "hubspot", base_url=hubspot.url, token="pat-good")
    workers.start()
    run = queue_sync(conn, batch_size=200)
    assert run.status == "queued" and run.job_id
    done = wait_for(run.id, finished)
    assert (done.status, done.created, done.trigger) == ("success", 1500, "api")
    assert done.job_id == run.job_id and done.heartbeat_at is not None
    assert count_rows(db, Contact, org) == 1500


def jobs_in_redis() -> list[tuple[Job, bytes]]:
    """Every RQ job in the test's Redis db, with its raw hash (the pickled data unzipped)."""
    conn = queue.redis_connection()
    found = []
    for key in conn.scan_iter("rq:job:*"):
        if key.count(b":") != 2:
            continue  # rq:job:<id>:dependents and the like
        raw = conn.hgetall(key)
        blob = b"".join(raw.values())
        with contextlib.suppress(zlib.error, TypeError):
            blob += zlib.decompress(raw.get(b"data"))
        found.append((Job.fetch(key.decode().split(":", 2)[2], connection=conn), blob))
    return found


def test_connection_tests_run_on_the_worker_and_never_put_the_token_in_redis(db, workers, hubspot):
    """Jobs take ids only: the worker decrypts a saved connection's token or a check request's."""
    org = make_org(db)
    admin = Viewer(0, "admin@example.com", org, "org_admin")
    conn = make_connection(db, org, "hubspot", base_url=hubspot.url, token="pat-good")
    workers.start()
    connected = (True, "Connected to HubSpot: token accepted, contacts are readable.")
    assert check_saved_connection(admin, conn.id) == connected
    assert check_connection(admin, "hubspot", hubspot.url, {"token": "pat-good"}, {}) == connected
    wrong = "tok-wrong-5c1d9e"
    assert check_connection(admin, "hubspot", hubspot.url, {"token": wrong}, {}) == (
        False,
        "token rejected (401)",
    )
    assert [r.headers["authorization"] for r in hubspot.log] == [
        "Bearer pat-good",
        "Bearer pat-good",
        f"Bearer {wrong}",
    ]
    jobs = jobs_in_redis()
    assert sorted(job.func_name for job, _ in jobs) == [
        "workers.jobs.check_new_connection_job",
        "workers.jobs.check_new_connection_job",
        "workers.jobs.check_saved_connection_job",
    ]
    for job, raw in jobs:
        assert job.origin == queue.CHECKS_QUEUE
        assert len(job.args) == 1 and isinstance(job.args[0], int) and not job.kwargs
        assert b"pat-good" not in raw and wrong.encode() not in raw
    with db.session() as s:
        assert s.scalar(select(func.count(ConnectionCheck.id))) == 0  # each job deleted its row


def test_workers_take_connection_tests_before_syncs(db, workers):
    workers.start()
    deadline = time.monotonic() + 20
    while not (registered := Worker.all(connection=queue.redis_connection())):
        assert time.monotonic() < deadline, "no worker registered"
        time.sleep(0.2)
    assert registered[0].queue_names() == [queue.CHECKS_QUEUE, queue.QUEUE_NAME]


# PostgreSQL only: RQ workers are the scaled-out setup, which runs on PostgreSQL, and the
# test spends most of its minute waiting for the reaper.
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_worker_killed_mid_run_is_failed_within_a_minute_and_rerun_has_no_duplicates(
    db, workers, hubspot
):
    org = make_org(db)
    conn = make_connection(db, org, "hubspot", base_url=hubspot.url, token="pat-good")
    hubspot.faults.delay = 0.15
    first = workers.start()
    run = queue_sync(conn, batch_size=100)
    wait_for(run.id, lambda r: r.status == "running" and r.processed >= 300, timeout=30)
    workers.kill(first)
    killed_at = time.monotonic()
    workers.start()  # a surviving worker's reaper notices the silence
    dead = wait_for(run.id, finished, timeout=75)
    assert time.monotonic() - killed_at < 60
    assert dead.status == "failed"
    assert "stopped responding" in dead.error
    kept = count_rows(db, Contact, org)
    assert 300 <= kept < 1500
    hubspot.faults.delay = 0
    rerun = wait_for(queue_sync(conn, batch_size=100).id, finished)
    assert rerun.status == "success"
    with db.session() as s:
        total, distinct = s.execute(
            select(func.count(), func.count(func.distinct(Contact.external_id))).where(
                Contact.org_id == org
            )
        ).one()
    assert total == distinct == 1500


def test_cancel_stops_at_a_batch_boundary_and_keeps_what_was_committed(db, workers, hubspot):
    org = make_org(db)
    conn = make_connection(db, org, "hubspot", base_url=hubspot.url, token="pat-good")
    hubspot.faults.delay = 0.1
    workers.start()
    run = queue_sync(conn, batch_size=100)
    wait_for(run.id, lambda r: r.processed >= 200, timeout=30)
    admin = Viewer(0, "admin@example.com", org, "org_admin")
    with session_scope() as s:
        request_cancel(s, admin, run.id)
    done = wait_for(run.id, finished, timeout=30)
    assert done.status == "cancelled"
    assert done.processed < 1500
    assert count_rows(db, Contact, org) == done.created


def test_redis_down_fails_the_run_with_a_clear_reason(db, redis_url):
    reset_settings(replace(get_settings(), redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    org = make_org(db)
    conn = make_connection(db, org, "demo", settings={"records": 10})
    run = create_run(conn, None, SyncOptions(), "user", None)
    with pytest.raises(queue.QueueUnavailable, match="job queue .Redis. is unreachable"):
        enqueue(run)
    with session_scope() as s:
        stored = s.get(SyncRun, run.id)
        assert stored.status == "failed"
        assert "unreachable" in stored.error
