"""Connections of an organisation: create, find, load, and schedule them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from models.base import utcnow
from models.credentials import encrypt_credentials
from models.params import id_or_none
from models.rowcount import affected_rows
from models.scope import MANAGE_SYNCS, Viewer, visible
from models.sync import Connection
from models.sync_errors import NotFound


def connections_visible(session: Session, viewer: Viewer) -> list[Connection]:
    """The connections of the viewer's organisation, by name."""
    return list(
        session.scalars(
            select(Connection).where(visible(viewer, Connection)).order_by(Connection.name)
        )
    )


def get_connection(session: Session, viewer: Viewer, connection_id: int | str) -> Connection:
    """The connection if it belongs to the viewer's organisation."""
    cid = id_or_none(connection_id)  # 1.5, True or 2**64 cannot be an id: not found
    if cid is None:
        raise NotFound(f"No connection {connection_id!r}.")
    conn = session.scalar(
        select(Connection).where(Connection.id == cid, visible(viewer, Connection))
    )
    if conn is None:
        raise NotFound(f"No connection {connection_id} in this organisation.")
    return conn


def load_connection(session: Session, connection_id: int) -> Connection | None:
    """A connection by id, for jobs (which take ids and run with no viewer)."""
    return session.get(Connection, connection_id)


def due_connection_ids(session: Session) -> list[int]:
    """Connections whose scheduled sync is due now."""
    return list(
        session.scalars(
            select(Connection.id).where(
                Connection.schedule_enabled.is_(True),
                Connection.schedule_minutes.is_not(None),
                Connection.next_run_at <= utcnow(),
            )
        )
    )


def claim_schedule_slot(session: Session, connection_id: int) -> Connection | None:
    """Move next_run_at forward iff nobody else did (compare-and-set); the winner gets the row."""
    conn = session.get(Connection, connection_id)
    if conn is None or conn.next_run_at is None or conn.next_run_at > utcnow():
        return None
    old = conn.next_run_at
    following = max(old + timedelta(minutes=conn.schedule_minutes or 0), utcnow())
    stmt = (
        update(Connection)
        .where(Connection.id == connection_id, Connection.next_run_at == old)
        .values(next_run_at=following)
    )
    return conn if affected_rows(session, stmt) == 1 else None


def find_connection(session: Session, org_id: int, ref: str | int) -> Connection | None:
    """A connection of `org_id` by id or name (CLI)."""
    ref = str(ref)
    conds = [Connection.name == ref]
    connection_id = id_or_none(ref)
    if connection_id is not None:
        conds.append(Connection.id == connection_id)
    return session.scalar(select(Connection).where(Connection.org_id == org_id, or_(*conds)))


def create_connection(
    session: Session,
    *,
    org_id: int,
    connector: str,
    name: str,
    base_url: str = "",
    credentials: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
    schedule_minutes: int | None = None,
    created_by_id: int | None = None,
) -> Connection:
    name = (name or "").strip()
    if not name:
        raise ValueError("A connection needs a name.")
    if session.scalar(
        select(Connection.id).where(Connection.org_id == org_id, Connection.name == name)
    ):
        raise ValueError(f"This organisation already has a connection named {name!r}.")
    if schedule_minutes is not None and not 1 <= schedule_minutes <= 7 * 24 * 60:
        raise ValueError("The schedule must be between 1 minute and 7 days.")
    conn = Connection(
        org_id=org_id,
        connector=connector,
        name=name,
        base_url=(base_url or "").strip(),
        credentials_encrypted=encrypt_credentials(credentials or {}),
        settings=settings or {},
        schedule_minutes=schedule_minutes,
        schedule_enabled=schedule_minutes is not None,
        next_run_at=utcnow() + timedelta(minutes=schedule_minutes) if schedule_minutes else None,
        created_by_id=created_by_id,
    )
    session.add(conn)
    session.flush()
    return conn


def set_schedule(
    session: Session, viewer: Viewer, connection_id: int | str, minutes: int | None
) -> Connection:
    """Sync the connection every `minutes` (None: never on a schedule); org admins only."""
    viewer.require_to(MANAGE_SYNCS)
    if minutes is not None and not 1 <= minutes <= 7 * 24 * 60:
        raise ValueError("The schedule must be between 1 minute and 7 days.")
    conn = get_connection(session, viewer, connection_id)
    conn.schedule_minutes = minutes
    conn.schedule_enabled = minutes is not None
    conn.next_run_at = utcnow() + timedelta(minutes=minutes) if minutes else None
    session.flush()
    return conn
