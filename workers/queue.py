"""The one module that owns the Redis connection, the RQ queues and the in-process pools.

With REDIS_URL set, jobs go to RQ and `syncboard worker` processes run them. Without
it, a small thread pool inside the app process runs the same functions and writes
the same sync-run rows. Connection tests, which a person waits for, have their own RQ
queue (workers take it before the sync queue) and their own pool, so they never wait
behind hours-long syncs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from settings import get_settings

log = logging.getLogger("syncboard.queue")
QUEUE_NAME = "syncboard"
#: Short jobs a person waits for (connection tests); `syncboard worker` takes these first.
CHECKS_QUEUE = "syncboard-checks"
SYNC_TIMEOUT = 6 * 60 * 60
INLINE_WORKERS = 2
INLINE_CHECK_WORKERS = 2

_pools: dict[str, ThreadPoolExecutor] = {}
_pool_lock = threading.Lock()


class QueueUnavailable(RuntimeError):
    """The job queue cannot take work right now (Redis down)."""


def backend() -> str:
    return "redis" if get_settings().redis_url else "inline"


def redis_connection():
    from redis import Redis

    return Redis.from_url(get_settings().redis_url, socket_connect_timeout=3, socket_timeout=10)


def rq_queue(name: str = QUEUE_NAME):
    from rq import Queue

    return Queue(name, connection=redis_connection(), default_timeout=SYNC_TIMEOUT)


def inline_pool(name: str = QUEUE_NAME) -> ThreadPoolExecutor:
    """The in-process pool of a queue: syncs share one, connection tests have their own."""
    with _pool_lock:
        if name not in _pools:
            checks = name == CHECKS_QUEUE
            _pools[name] = ThreadPoolExecutor(
                max_workers=INLINE_CHECK_WORKERS if checks else INLINE_WORKERS,
                thread_name_prefix="syncboard-check" if checks else "syncboard-job",
            )
        return _pools[name]


def submit(
    func: Callable[..., Any], *args, timeout: int = SYNC_TIMEOUT, description: str = ""
) -> str:
    """Queue `func(*args)`; returns a job id. QueueUnavailable when Redis cannot be reached."""
    if backend() == "inline":
        future = inline_pool().submit(func, *args)
        return f"inline-{id(future)}"
    from redis.exceptions import RedisError
    from rq.job import Callback

    try:
        job = rq_queue().enqueue_call(
            func,
            args=args,
            timeout=timeout,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=description or None,
            on_failure=Callback("workers.jobs.on_job_failure"),
        )
    except RedisError as exc:
        raise QueueUnavailable(
            f"The job queue (Redis) is unreachable: {exc}. The app keeps serving; try again shortly."
        ) from exc
    return job.id


class NoWorker(TimeoutError):
    """A short job was queued but no worker took it in time (as opposed to a slow job)."""


def call(func: Callable[..., Any], *args, wait: float = 10.0) -> Any:
    """Run `func(*args)` on the checks queue and wait for its result (short jobs only)."""
    if backend() == "inline":
        future: Future = inline_pool(CHECKS_QUEUE).submit(func, *args)
        try:
            return future.result(timeout=wait)
        except FutureTimeout as exc:
            raise TimeoutError(f"No answer within {wait:.0f} s.") from exc
    import time

    from redis.exceptions import RedisError

    try:
        job = rq_queue(CHECKS_QUEUE).enqueue_call(
            func,
            args=args,
            timeout=int(wait) + 10,
            ttl=int(wait) + 5,  # a test nobody waits for any more is not run
            result_ttl=300,
            failure_ttl=3600,
        )
        deadline = time.monotonic() + wait
        status = None
        while time.monotonic() < deadline:
            status = job.get_status(refresh=True)
            if status == "finished":
                return job.return_value()
            if status in ("failed", "stopped", "canceled"):
                raise RuntimeError("The check failed inside the worker.")
            time.sleep(0.2)
    except RedisError as exc:
        raise QueueUnavailable(f"The job queue (Redis) is unreachable: {exc}.") from exc
    job.cancel()
    if status == "started":  # a worker took it: the job itself is slow (an unreachable host)
        raise TimeoutError(f"No answer within {wait:.0f} s.")
    raise NoWorker(f"No worker answered within {wait:.0f} s. Is `syncboard worker` running?")
