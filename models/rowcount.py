"""How many rows a write changed, read from the result SQLAlchemy types as a plain Result."""

from __future__ import annotations

from typing import cast

from sqlalchemy import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable


def affected_rows(session: Session, stmt: Executable) -> int:
    """Rows an UPDATE or DELETE changed: its result is a CursorResult, typed as a plain Result."""
    return cast(CursorResult, session.execute(stmt)).rowcount or 0
