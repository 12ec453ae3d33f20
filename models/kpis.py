"""KPI queries: the one place that turns filters into SQL aggregates over calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from models.records import Call
from models.scope import Viewer, visible


@dataclass(frozen=True)
class CallKpis:
    total: int
    answered: int
    missed: int
    voicemail: int
    total_duration: int
    average_handle_time: float | None

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.total if self.total else None


def call_filters(
    viewer: Viewer,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    phone: int | None = None,
    agent: int | None = None,
    direction: str | None = None,
) -> list:
    """WHERE clauses for calls: the viewer's scope first, then the page's filters."""
    clauses = [visible(viewer, Call)]
    if start is not None:
        clauses.append(Call.started_at >= start)
    if end is not None:
        clauses.append(Call.started_at < end)
    if phone is not None:
        clauses.append(Call.phone_number_id == phone)
    if agent is not None:
        clauses.append(Call.agent_id == agent)
    if direction:
        clauses.append(Call.direction == direction)
    return clauses


def call_kpis(
    session: Session,
    viewer: Viewer,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    phone: int | None = None,
    agent: int | None = None,
    direction: str | None = None,
) -> CallKpis:
    """Totals, answer counts and handle time in one aggregate query."""
    answered = Call.status == "answered"
    stmt = select(
        func.count(Call.id),
        func.coalesce(func.sum(case((answered, 1), else_=0)), 0),
        func.coalesce(func.sum(case((Call.status == "missed", 1), else_=0)), 0),
        func.coalesce(func.sum(case((Call.status == "voicemail", 1), else_=0)), 0),
        func.coalesce(func.sum(Call.duration_seconds), 0),
        func.avg(case((answered, Call.duration_seconds))),
    ).where(
        *call_filters(viewer, start=start, end=end, phone=phone, agent=agent, direction=direction)
    )
    total, ans, missed, vm, duration, aht = session.execute(stmt).one()
    return CallKpis(
        int(total),
        int(ans),
        int(missed),
        int(vm),
        int(duration),
        float(aht) if aht is not None else None,
    )
