"""What the UI, the API and the CLI ask of the sync engine: start, cancel, test a connection.

Authorization happens here, against the viewer built on the server, before any work is queued.
"""

from __future__ import annotations

import logging

from connectors.base import ConnectorError, get_connector
from models.connection_checks import create_check, discard_check
from models.connections import get_connection, load_connection
from models.db import session_scope
from models.runs import fail_run, request_cancel, request_run, set_job_id
from models.scope import MANAGE_SYNCS, Viewer
from models.sync import Connection, SyncRun
from models.sync_errors import NotFound
from models.sync_options import SyncOptions, parse_options
from workers import queue
from workers.jobs import (
    check_new_connection_job,
    check_saved_connection_job,
    inline_sync_job,
    sync_job,
)

log = logging.getLogger("syncboard.service")

#: A connection test gives up after this many seconds in all: a person is waiting for it.
CHECK_SECONDS = 10.0


def _host_of(base_url: str, connector: str) -> str:
    """The host a test talks to, for "No answer from …" (the connector's default when empty)."""
    from urllib.parse import urlsplit

    try:
        cls = get_connector(connector)
        url = base_url or cls.default_base_url
    except ConnectorError:
        url = base_url
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    return host or "the connector"


def _require_admin(viewer: Viewer) -> None:
    viewer.require_to(MANAGE_SYNCS)


def check_stream(connector: str, stream: str | None) -> None:
    cls = get_connector(connector)
    if stream is not None:
        cls.stream(stream)


def enqueue(run: SyncRun) -> SyncRun:
    """Hand a queued run to the backend; if the queue is down the run fails with the reason."""
    try:
        job_id = queue.submit(
            sync_job if queue.backend() == "redis" else inline_sync_job,
            run.id,
            description=f"sync run {run.id}",
        )
    except queue.QueueUnavailable as exc:
        with session_scope() as db:
            fail_run(db, run.id, str(exc))
        raise
    with session_scope() as db:
        stored = set_job_id(db, run.id, job_id)
    return stored or run


def create_run(
    connection: Connection,
    stream: str | None,
    options: SyncOptions,
    trigger: str,
    user_id: int | None,
) -> SyncRun:
    check_stream(connection.connector, stream)
    with session_scope() as db:
        conn = load_connection(db, connection.id)
        if conn is None:
            raise NotFound(f"No connection {connection.id}.")
        return request_run(
            db, conn, stream=stream, options=options, trigger=trigger, user_id=user_id
        )


def start_sync(
    viewer: Viewer,
    connection_id: int | str,
    stream: str | None = None,
    options: dict | None = None,
    *,
    trigger: str = "user",
) -> SyncRun:
    """Queue a sync for the viewer's organisation (org admins only)."""
    _require_admin(viewer)
    parsed = parse_options(options)
    with session_scope() as db:
        conn = get_connection(db, viewer, connection_id)
    run = create_run(conn, stream or None, parsed, trigger, viewer.user_id)
    return enqueue(run)


def cancel_sync(viewer: Viewer, run_id: int | str) -> SyncRun:
    with session_scope() as db:
        return request_cancel(db, viewer, run_id)


def _ask(job, job_id_arg: int, host: str) -> tuple[bool, str]:
    try:
        return queue.call(job, job_id_arg, wait=CHECK_SECONDS)
    except queue.NoWorker as exc:
        return False, str(exc)
    except TimeoutError:
        return False, (
            f"No answer from {host} within {CHECK_SECONDS:.0f} s. Check the base URL, "
            "and that the host is up and reachable from this server."
        )
    except (queue.QueueUnavailable, RuntimeError) as exc:
        return False, str(exc)


def check_connection(
    viewer: Viewer,
    connector: str,
    base_url: str,
    credentials: dict,
    settings: dict | None = None,
) -> tuple[bool, str]:
    """Ask the connector, on the job backend, whether these unsaved settings work (org admins).

    The input is stored as a check request and the job gets its id: jobs take ids only,
    so credentials never travel through Redis.
    """
    _require_admin(viewer)
    try:
        get_connector(connector)
    except ConnectorError as exc:
        return False, str(exc)
    if viewer.org_id is None:
        return False, "Choose an organisation first."
    with session_scope() as db:
        check_id = create_check(
            db,
            org_id=viewer.org_id,
            connector=connector,
            base_url=base_url,
            credentials=credentials,
            settings=settings,
        )
    try:
        return _ask(check_new_connection_job, check_id, _host_of(base_url, connector))
    finally:
        with session_scope() as db:
            discard_check(db, check_id)


def check_saved_connection(viewer: Viewer, connection_id: int | str) -> tuple[bool, str]:
    """Test a saved connection of the viewer's organisation; the worker decrypts its credentials."""
    _require_admin(viewer)
    with session_scope() as db:
        conn = get_connection(db, viewer, connection_id)
        conn_id, host = conn.id, _host_of(conn.base_url, conn.connector)
    return _ask(check_saved_connection_job, conn_id, host)
