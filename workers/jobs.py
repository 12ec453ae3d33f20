"""Job functions: importable, taking ids only, each opening its own session (RQ's rule)."""

from __future__ import annotations

import logging

from models.db import session_factory
from models.runs import fail_run

log = logging.getLogger("syncboard.jobs")

#: (connect, read) seconds for a connection test's requests, and its retries; together
#: they stay under the 10 s a test waits (workers/service.py CHECK_SECONDS).
TEST_TIMEOUT = (3.0, 6.0)


def sync_job(run_id: int) -> str:
    from rq import get_current_job

    from workers.engine import run_safely

    job = get_current_job()
    return run_safely(run_id, job.id if job else None)


def inline_sync_job(run_id: int) -> str:
    from workers.engine import run_safely

    return run_safely(run_id, None)


def check_saved_connection_job(connection_id: int) -> tuple[bool, str]:
    """(ok, message): test a saved connection, its credentials decrypted here, in the worker."""
    from models.connections import load_connection
    from models.credentials import decrypt_credentials

    with session_factory()() as session:
        conn = load_connection(session, connection_id)
        if conn is None:
            return False, "This connection no longer exists."
        try:
            credentials = decrypt_credentials(conn.credentials_encrypted)
        except ValueError as exc:
            return False, str(exc)
        connector, base_url, settings = conn.connector, conn.base_url, dict(conn.settings or {})
    return run_connection_test(connector, base_url, credentials, settings)


def check_new_connection_job(check_id: int) -> tuple[bool, str]:
    """(ok, message): test the "Add connection" form's input, stored as a check request."""
    from models.connection_checks import take_check
    from models.db import session_scope

    try:
        with session_scope() as session:
            request = take_check(session, check_id)
    except ValueError as exc:  # the credentials cannot be decrypted
        return False, str(exc)
    if request is None:
        return False, "This test waited too long for a worker and was dropped; press Test again."
    return run_connection_test(
        request.connector, request.base_url, request.credentials, request.settings
    )


def _test_retry():
    from connectors.base import RetryPolicy

    return RetryPolicy(max_retries=1, backoff=0.5, max_backoff=1.0)


def run_connection_test(
    connector: str, base_url: str, credentials: dict, settings: dict
) -> tuple[bool, str]:
    """(ok, message) for a person: what the connector says about these credentials."""
    from connectors.base import ConnectorError, get_connector

    try:
        cls = get_connector(connector)
        instance = cls(
            base_url=base_url or None,
            credentials=credentials,
            settings=settings,
            retry=_test_retry(),
        )
        # A person waits for a test (service.CHECK_SECONDS in all): one quick retry, short
        # timeouts, instead of a sync's six retries with up to 30 s read timeouts.
        instance.client.timeout = TEST_TIMEOUT
        try:
            instance.require_credentials()
            return True, instance.test_connection()
        finally:
            instance.close()
    except ConnectorError as exc:
        return False, str(exc)
    except Exception as exc:  # noqa: BLE001 - report, never crash the caller
        log.exception("connection test crashed")
        # the exception's text may quote what the server sent: the log keeps it, not the UI
        return False, f"Unexpected error ({type(exc).__name__}); the worker's log has the details."


def on_job_failure(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ calls this when a job dies (timeout, exception outside our handling)."""
    if job.func_name.endswith("sync_job") and job.args:
        reason = (
            "The sync took longer than its time limit and was stopped."
            if exc_type is not None and "Timeout" in exc_type.__name__
            else f"The worker failed this sync: {exc_value}"
        )
        with session_factory()() as session:
            fail_run(session, int(job.args[0]), reason)
