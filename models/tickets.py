"""Ticket upkeep: the SLA check the scheduler runs."""

from __future__ import annotations

from typing import cast

from sqlalchemy import CursorResult, or_, update
from sqlalchemy.orm import Session

from models.base import utcnow
from models.records import Ticket

OPEN_STATUSES = ("open", "pending", "in_progress")


def mark_sla_breaches(session: Session) -> int:
    """Flag tickets past their deadline: still open, or resolved after it. Returns how many."""
    now = utcnow()
    late_open = (Ticket.status.in_(OPEN_STATUSES)) & (Ticket.due_at < now)
    late_resolved = Ticket.resolved_at.is_not(None) & (Ticket.resolved_at > Ticket.due_at)
    stmt = (
        update(Ticket)
        .where(
            Ticket.sla_breached.is_(False),
            Ticket.due_at.is_not(None),
            or_(late_open, late_resolved),
        )
        .values(sla_breached=True)
    )
    result = cast(CursorResult, session.execute(stmt))  # what an UPDATE returns: has rowcount
    return result.rowcount or 0
