"""Tests of connections not saved yet: kept for the one job that runs them, then dropped.

The job is given only the id, so credentials never travel in a job's arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from models.base import utcnow
from models.credentials import decrypt_credentials, encrypt_credentials
from models.rowcount import affected_rows
from models.sync import ConnectionCheck

#: A test request no job took within this long is dropped (a person waits 20 s at most).
CHECK_TTL = timedelta(minutes=5)


@dataclass(frozen=True)
class CheckRequest:
    """What a connection test job needs, credentials decrypted (it never leaves the worker)."""

    org_id: int
    connector: str
    base_url: str
    credentials: dict[str, str]
    settings: dict[str, Any]


def create_check(
    session: Session,
    *,
    org_id: int,
    connector: str,
    base_url: str,
    credentials: dict[str, str],
    settings: dict[str, Any] | None = None,
) -> int:
    """Keep a test of an unsaved connection for one job (which gets only the id); stale ones go."""
    purge_stale_checks(session)
    row = ConnectionCheck(
        org_id=org_id,
        connector=connector,
        base_url=(base_url or "").strip()[:500],
        credentials_encrypted=encrypt_credentials(credentials),
        settings=settings or {},
    )
    session.add(row)
    session.flush()
    return row.id


def take_check(session: Session, check_id: int) -> CheckRequest | None:
    """The request, decrypted, and its row deleted; None when it is gone or too old."""
    row = session.get(ConnectionCheck, check_id)
    if row is None:
        return None
    session.delete(row)
    session.flush()
    if row.created_at < utcnow() - CHECK_TTL:
        return None
    return CheckRequest(
        org_id=row.org_id,
        connector=row.connector,
        base_url=row.base_url,
        credentials=decrypt_credentials(row.credentials_encrypted),
        settings=dict(row.settings or {}),
    )


def discard_check(session: Session, check_id: int) -> None:
    """Drop a request whose job did not run (timed out, queue down); a no-op once it ran."""
    session.execute(delete(ConnectionCheck).where(ConnectionCheck.id == check_id))


def purge_stale_checks(session: Session, *, older_than: timedelta = CHECK_TTL) -> int:
    """Delete test requests no job took; returns how many."""
    cutoff = utcnow() - older_than
    stmt = delete(ConnectionCheck).where(ConnectionCheck.created_at < cutoff)
    return affected_rows(session, stmt)
