"""Each stream's cursor: how far a connection's sync of it has got (never moved backwards).

A cursor is saved in the same transaction as the batch it covers, so a crash resumes with
nothing lost and nothing duplicated.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.sync import SyncState


def get_cursor(session: Session, connection_id: int, stream: str) -> str | None:
    return session.scalar(
        select(SyncState.cursor).where(
            SyncState.connection_id == connection_id, SyncState.stream == stream
        )
    )


def _cursor_key(value: str):
    """Cursors are ISO datetimes (compared as instants, whatever their offset) or plain text."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return (1, None, value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (0, moment, value)


def set_cursor(
    session: Session, connection_id: int, stream: str, cursor: str | None, *, finished: bool = False
) -> None:
    state = session.scalar(
        select(SyncState).where(
            SyncState.connection_id == connection_id, SyncState.stream == stream
        )
    )
    if state is None:
        state = SyncState(connection_id=connection_id, stream=stream)
        session.add(state)
    if cursor is not None and (
        state.cursor is None or _cursor_key(cursor) > _cursor_key(state.cursor)
    ):
        state.cursor = cursor
    state.updated_at = utcnow()
    if finished:
        state.last_success_at = utcnow()
    session.flush()
