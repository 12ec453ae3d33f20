"""Job functions: importable, taking ids only, each opening its own session (RQ's rule)."""

from __future__ import annotations

import logging

from models.db import session_factory
from models.sync_store import fail_run

log = logging.getLogger("syncboard.jobs")


def sync_job(run_id: int) -> str:
    from rq import get_current_job

    from workers.engine import run_safely

    job = get_current_job()
    return run_safely(run_id, job.id if job else None)


def inline_sync_job(run_id: int) -> str:
    from workers.engine import run_safely

    return run_safely(run_id, None)


def check_connection_job(
    connector: str, base_url: str, credentials: dict, settings: dict
) -> tuple[bool, str]:
    """(ok, message) for a person: what the connector says about these credentials."""
    from connectors.base import ConnectorError, get_connector

    try:
        cls = get_connector(connector)
        instance = cls(base_url=base_url or None, credentials=credentials, settings=settings)
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
