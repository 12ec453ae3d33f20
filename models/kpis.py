"""KPI and chart queries: the one place that turns the overview's filters into SQL aggregates.

Every function takes the session and the viewer and scopes each table with
`models.scope.visible`; calls are then narrowed by the page's filters (`call_filters`).
Aggregation happens in SQL, one statement per table and chart; pandas only shapes the
small results. Hours, days and weekdays are UTC on both backends: `utc_hour_start`,
`utc_weekday` and `utc_hour` compile to `AT TIME ZONE 'UTC'` on PostgreSQL and to `strftime`
on SQLite (which holds our timestamps as UTC text).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import cast

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, DateTime, Integer, case, func, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from models.orgs import Membership, PhoneAssignment, PhoneNumber, User
from models.records import Call, Case, Cluster, Office, Ticket
from models.scope import SEE_ORG, Viewer, visible

OPEN_CASE_STATUSES = ("new", "acknowledged", "in_progress")
OPEN_TICKET_STATUSES = ("open", "pending", "in_progress")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
AGENT_LIMIT = 20
NUMBER_LIMIT = 10


# --- UTC calendar parts, per dialect --------------------------------------------------------


class utc_weekday(FunctionElement):  # noqa: N801  (reads like the SQL it stands for)
    """The UTC weekday of a timestamp column, Monday = 0 … Sunday = 6."""

    type = Integer()
    name = "utc_weekday"
    inherit_cache = True


class utc_hour(FunctionElement):  # noqa: N801
    """The UTC hour (0–23) of a timestamp column."""

    type = Integer()
    name = "utc_hour"
    inherit_cache = True


class utc_hour_start(FunctionElement):  # noqa: N801
    """The start of the UTC hour of a timestamp column (a naive UTC datetime)."""

    type = DateTime()
    name = "utc_hour_start"
    inherit_cache = True


def _arg(element, compiler, **kw) -> str:
    (column,) = element.clauses
    return compiler.process(column, **kw)


# PostgreSQL stores timestamptz; AT TIME ZONE 'UTC' makes the parts independent of the
# session's TimeZone setting. Charts group by date_trunc('hour') and fold hours into days
# and weekdays in pandas: EXTRACT returns numeric since PostgreSQL 14 and costs ~2x more.
@compiles(utc_weekday, "postgresql")
def _pg_weekday(element, compiler, **kw):
    return f"(CAST(EXTRACT(ISODOW FROM {_arg(element, compiler, **kw)} AT TIME ZONE 'UTC') AS INTEGER) - 1)"


@compiles(utc_hour, "postgresql")
def _pg_hour(element, compiler, **kw):
    return f"CAST(EXTRACT(HOUR FROM {_arg(element, compiler, **kw)} AT TIME ZONE 'UTC') AS INTEGER)"


@compiles(utc_hour_start, "postgresql")
def _pg_hour_start(element, compiler, **kw):
    return f"date_trunc('hour', {_arg(element, compiler, **kw)} AT TIME ZONE 'UTC')"


# SQLite keeps our timestamps as UTC text ('YYYY-MM-DD HH:MM:SS.ffffff', see UTCDateTime).
@compiles(utc_weekday, "sqlite")
def _sqlite_weekday(element, compiler, **kw):
    return f"((CAST(strftime('%w', {_arg(element, compiler, **kw)}) AS INTEGER) + 6) % 7)"


@compiles(utc_hour, "sqlite")
def _sqlite_hour(element, compiler, **kw):
    return f"CAST(strftime('%H', {_arg(element, compiler, **kw)}) AS INTEGER)"


@compiles(utc_hour_start, "sqlite")
def _sqlite_hour_start(element, compiler, **kw):
    return f"strftime('%Y-%m-%d %H:00:00', {_arg(element, compiler, **kw)})"


# --- periods and filters --------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A half-open UTC range [start, end) and the one it is compared with, of the same length."""

    start: datetime
    end: datetime
    prev_start: datetime
    prev_end: datetime

    @classmethod
    def of(cls, start: datetime, end: datetime, shift: timedelta | None = None) -> Period:
        """`[start, end)` and the same range moved back by `shift` (default: its own length)."""
        shift = shift if shift is not None else end - start
        return cls(start, end, start - shift, end - shift)

    def days(self) -> list[date]:
        """Every UTC day the period touches, oldest first."""
        first, last = self.start.date(), (self.end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass(frozen=True)
class CallFilter:
    """The overview's narrowing of calls: number, agent, direction and a weekday/hour cell."""

    phone: int | None = None
    agent: int | None = None
    direction: str | None = None
    weekday: int | None = None
    hour: int | None = None

    def without_cell(self) -> CallFilter:
        return replace(self, weekday=None, hour=None)


def call_filters(
    viewer: Viewer,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    phone: int | None = None,
    agent: int | None = None,
    direction: str | None = None,
    weekday: int | None = None,
    hour: int | None = None,
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
    if weekday is not None:
        clauses.append(utc_weekday(Call.started_at) == weekday)
    if hour is not None:
        clauses.append(utc_hour(Call.started_at) == hour)
    return clauses


def _where(viewer: Viewer, start: datetime, end: datetime, f: CallFilter) -> list:
    return call_filters(
        viewer,
        start=start,
        end=end,
        phone=f.phone,
        agent=f.agent,
        direction=f.direction,
        weekday=f.weekday,
        hour=f.hour,
    )


# --- call KPIs ------------------------------------------------------------------------------


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


def _count_if(cond) -> ColumnElement:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _sum_if(cond, value) -> ColumnElement:
    return func.coalesce(func.sum(case((cond, value), else_=0)), 0)


def _call_columns(within) -> list[ColumnElement]:
    """Six aggregates over the calls matching `within`: see `_to_kpis` for their order."""
    answered = within & (Call.status == "answered")
    return [
        _count_if(within),
        _count_if(answered),
        _count_if(within & (Call.status == "missed")),
        _count_if(within & (Call.status == "voicemail")),
        _sum_if(within, Call.duration_seconds),
        _sum_if(answered, Call.duration_seconds),
    ]


def _to_kpis(row) -> CallKpis:
    total, answered, missed, voicemail, duration, answered_duration = (int(v) for v in row)
    return CallKpis(
        total,
        answered,
        missed,
        voicemail,
        duration,
        answered_duration / answered if answered else None,
    )


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
    where = call_filters(
        viewer, start=start, end=end, phone=phone, agent=agent, direction=direction
    )
    row = session.execute(select(*_call_columns(true())).where(*where)).one()
    return _to_kpis(row)


def call_kpis_compared(
    session: Session, viewer: Viewer, period: Period, f: CallFilter = CallFilter()
) -> tuple[CallKpis, CallKpis]:
    """(this period, the previous one) in one scan with conditional aggregates."""
    current = Call.started_at >= period.start
    previous = Call.started_at < period.prev_end
    stmt = select(*_call_columns(current), *_call_columns(previous)).where(
        *_where(viewer, period.prev_start, period.end, f),
        # The two ranges may leave a gap (today so far vs. yesterday until the same hour).
        or_(current, previous) if period.prev_end < period.start else true(),
    )
    row = session.execute(stmt).one()
    return _to_kpis(row[:6]), _to_kpis(row[6:])


# --- call charts ----------------------------------------------------------------------------


HourRow = tuple[datetime, int, int, int]  # UTC hour start (naive), answered, missed, voicemail
PairRow = tuple  # agent_id, agent name, phone_number_id, number, label, calls, answered


def calls_by_hour(
    session: Session, viewer: Viewer, period: Period, f: CallFilter = CallFilter()
) -> list[HourRow]:
    """Answered, missed and voicemail calls per UTC hour of the period (hours with calls only).

    The weekday/hour cell is not applied: the heatmap shows every cell, and `daily_counts`
    applies the cell to these rows, which gives the same result as a WHERE clause.
    """
    hour = utc_hour_start(Call.started_at).label("hour")
    stmt = (
        select(
            hour,
            _count_if(Call.status == "answered"),
            _count_if(Call.status == "missed"),
            _count_if(Call.status == "voicemail"),
        )
        .where(*_where(viewer, period.start, period.end, f.without_cell()))
        .group_by(hour)
    )
    return cast(list[HourRow], session.execute(stmt).all())  # Rows unpack like HourRows


# The folds below run over a few thousand rows at most; plain Python beats pandas there
# (building and grouping DataFrames costs more than the whole loop).
def daily_counts(
    by_hour: list[HourRow], period: Period, weekday: int | None = None, hour: int | None = None
) -> pd.DataFrame:
    """Calls per UTC day of the period (every day present), optionally only one weekday/hour."""
    sums: dict[date, list[int]] = {}
    for stamp, answered, missed, voicemail in by_hour:
        if (weekday is None or stamp.weekday() == weekday) and (hour is None or stamp.hour == hour):
            day = sums.setdefault(stamp.date(), [0, 0, 0])
            day[0] += answered
            day[1] += missed
            day[2] += voicemail
    rows = [(d, *sums.get(d, (0, 0, 0))) for d in period.days()]
    return _frame(rows, ["day", "answered", "missed", "voicemail"])


def _naive_utc(moment: datetime) -> datetime:
    """The UTC wall time, without zone, as the hour rows carry it."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def hourly_counts(
    by_hour: list[HourRow], period: Period, weekday: int | None = None, hour: int | None = None
) -> pd.DataFrame:
    """Calls per UTC hour of the period (every hour present): the chart of a single day."""
    wanted = {
        stamp: (a, m, v)
        for stamp, a, m, v in by_hour
        if (weekday is None or stamp.weekday() == weekday) and (hour is None or stamp.hour == hour)
    }
    first = _naive_utc(period.start).replace(minute=0, second=0, microsecond=0)
    last = _naive_utc(period.end - timedelta(microseconds=1))
    hours = [
        first + timedelta(hours=i) for i in range(int((last - first) / timedelta(hours=1)) + 1)
    ]
    rows = [(h, *wanted.get(h, (0, 0, 0))) for h in hours]
    return _frame(rows, ["hour", "answered", "missed", "voicemail"])


def weekly_heatmap(by_hour: list[HourRow]) -> pd.DataFrame:
    """Calls per (UTC weekday Monday=0, hour) over the period, cells with calls only."""
    cells: dict[tuple[int, int], int] = {}
    for stamp, answered, missed, voicemail in by_hour:
        key = (stamp.weekday(), stamp.hour)
        cells[key] = cells.get(key, 0) + answered + missed + voicemail
    rows = [(w, h, n) for (w, h), n in sorted(cells.items())]
    return _frame(rows, ["weekday", "hour", "calls"])


def calls_by_agent_and_number(
    session: Session, viewer: Viewer, period: Period, f: CallFilter = CallFilter()
) -> list[PairRow]:
    """Calls and answered calls per (agent, number) pair, with the agent's name and the
    number's label: one scan feeds both the agent chart and the top numbers chart."""
    agg = (
        select(
            Call.agent_id,
            Call.phone_number_id,
            func.count().label("calls"),
            _count_if(Call.status == "answered").label("answered"),
        )
        .where(*_where(viewer, period.start, period.end, f))
        .group_by(Call.agent_id, Call.phone_number_id)
        .subquery()
    )
    stmt = (
        select(
            agg.c.agent_id,
            func.coalesce(func.nullif(User.name, ""), User.email),
            agg.c.phone_number_id,
            PhoneNumber.number,
            PhoneNumber.label,
            agg.c.calls,
            agg.c.answered,
        )
        .outerjoin(User, User.id == agg.c.agent_id)
        .outerjoin(PhoneNumber, PhoneNumber.id == agg.c.phone_number_id)
    )
    return [tuple(row) for row in session.execute(stmt)]


_OBJECT_COLUMNS = ("day", "hour", "agent", "number", "label", "status", "office", "cluster")


def _frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """A small DataFrame from rows: int64 columns, but dates and names stay objects."""
    data = {
        name: [r[i] for r in rows]
        if name in _OBJECT_COLUMNS
        else np.array([r[i] for r in rows], np.int64)
        for i, name in enumerate(columns)
    }
    return pd.DataFrame(data, columns=columns)


def _top(totals: dict[tuple, list[int]], limit: int) -> list[tuple]:
    """(key..., calls, answered) of the `limit` keys with the most calls, ties by id."""
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0][0]))
    return [(*key, calls, answered) for key, (calls, answered) in ordered[:limit]]


def agent_rates(pairs: list[PairRow], limit: int = AGENT_LIMIT) -> pd.DataFrame:
    """The `limit` agents with the most calls: agent_id, agent, calls, answered."""
    totals: dict[tuple, list[int]] = {}
    for agent_id, agent, _pid, _number, _label, calls, answered in pairs:
        if agent_id is not None and agent is not None:
            total = totals.setdefault((agent_id, agent), [0, 0])
            total[0] += calls
            total[1] += answered
    return _frame(_top(totals, limit), ["agent_id", "agent", "calls", "answered"])


def number_counts(pairs: list[PairRow], limit: int = NUMBER_LIMIT) -> pd.DataFrame:
    """The `limit` numbers with the most calls: phone_number_id, number, label, calls, answered."""
    totals: dict[tuple, list[int]] = {}
    for _aid, _agent, pid, number, label, calls, answered in pairs:
        if pid is not None and number is not None:
            total = totals.setdefault((pid, number, label), [0, 0])
            total[0] += calls
            total[1] += answered
    return _frame(_top(totals, limit), ["phone_number_id", "number", "label", "calls", "answered"])


# --- cases and tickets (organisation-wide, see models/scope.py) -----------------------------


def _open_at(moment, opened, status, open_statuses, resolved, updated) -> ColumnElement:
    """Opened before `moment` and not yet resolved, closed or rejected at `moment`.

    A record's closing time is its resolved_at, or its updated_at when it was closed or
    rejected without one (a terminal status does not change again, so updated_at is when
    it got there at the latest).
    """
    return (opened < moment) & (
        status.in_(open_statuses) | (func.coalesce(resolved, updated) >= moment)
    )


@dataclass(frozen=True)
class CaseStats:
    """Open cases at the end and at the start of the period, resolved cases in both periods,
    and the cases reported in the period by status, office and cluster."""

    open_now: int
    open_before: int
    resolved: int
    resolved_before: int
    breakdown: pd.DataFrame  # status, office, cluster, cases (reported in the period)


def case_stats(session: Session, viewer: Viewer, period: Period) -> CaseStats:
    """Everything the overview shows about cases, in one grouped query."""
    c = Case

    def open_at(moment):
        return _open_at(
            moment, c.reported_at, c.status, OPEN_CASE_STATUSES, c.resolved_at, c.updated_at
        )

    def resolved_in(start, end):
        return (c.resolved_at >= start) & (c.resolved_at < end)

    reported = c.reported_at >= period.start
    office = func.coalesce(Office.name, "No office").label("office")
    cluster = func.coalesce(Cluster.name, "No cluster").label("cluster")
    stmt = (
        select(
            c.status,
            office,
            cluster,
            _count_if(reported),
            _count_if(open_at(period.end)),
            _count_if(open_at(period.start)),
            _count_if(resolved_in(period.start, period.end)),
            _count_if(resolved_in(period.prev_start, period.prev_end)),
        )
        .outerjoin(Office, Office.id == c.office_id)
        .outerjoin(Cluster, Cluster.id == c.cluster_id)
        .where(
            visible(viewer, Case),
            c.reported_at < period.end,
            # Only rows that can count for something: still open, closed recently, or new.
            c.status.in_(OPEN_CASE_STATUSES)
            | (func.coalesce(c.resolved_at, c.updated_at) >= period.prev_start)
            | reported,
        )
        .group_by(c.status, office, cluster)
    )
    rows = session.execute(stmt).all()
    total = [sum(int(r[i]) for r in rows) for i in range(4, 8)]
    breakdown = [(st, office_, cluster_, int(n)) for st, office_, cluster_, n, *_ in rows if n]
    open_now, open_before, resolved, resolved_before = total
    return CaseStats(
        open_now,
        open_before,
        resolved,
        resolved_before,
        _frame(breakdown, ["status", "office", "cluster", "cases"]),
    )


@dataclass(frozen=True)
class TicketStats:
    """Open tickets at the end and start of the period, SLA breaches (tickets flagged breached
    whose deadline fell in the period) in both periods, and tickets created per status."""

    open_now: int
    open_before: int
    breaches: int
    breaches_before: int
    by_status: pd.DataFrame  # status, tickets (created in the period)


def ticket_stats(session: Session, viewer: Viewer, period: Period) -> TicketStats:
    """Everything the overview shows about tickets, in one query grouped by status."""
    t = Ticket

    def open_at(moment):
        return _open_at(
            moment, t.created_at, t.status, OPEN_TICKET_STATUSES, t.resolved_at, t.updated_at
        )

    def breached_in(start, end):
        return t.sla_breached & (t.due_at >= start) & (t.due_at < end)

    created = t.created_at >= period.start
    stmt = (
        select(
            t.status,
            _count_if(created),
            _count_if(open_at(period.end)),
            _count_if(open_at(period.start)),
            _count_if(breached_in(period.start, period.end)),
            _count_if(breached_in(period.prev_start, period.prev_end)),
        )
        .where(
            visible(viewer, Ticket),
            t.created_at < period.end,
            t.status.in_(OPEN_TICKET_STATUSES)
            | (func.coalesce(t.resolved_at, t.updated_at) >= period.prev_start)
            | (t.due_at >= period.prev_start)
            | created,
        )
        .group_by(t.status)
    )
    rows = session.execute(stmt).all()
    total = [sum(int(r[i]) for r in rows) for i in range(2, 6)]
    by_status = [(status, int(n)) for status, n, *_ in rows if n]
    open_now, open_before, breaches, breaches_before = total
    return TicketStats(
        open_now, open_before, breaches, breaches_before, _frame(by_status, ["status", "tickets"])
    )


# --- everything the overview page runs ------------------------------------------------------


@dataclass(frozen=True)
class OverviewData:
    calls: CallKpis
    calls_before: CallKpis
    cases: CaseStats
    tickets: TicketStats
    per_day: pd.DataFrame
    per_hour: pd.DataFrame | None  # a period of a single day is charted by hour
    heatmap: pd.DataFrame
    agents: pd.DataFrame
    numbers: pd.DataFrame


def overview_data(
    session: Session, viewer: Viewer, period: Period, f: CallFilter = CallFilter()
) -> OverviewData:
    """All cards and charts of the overview: five aggregate queries (three over calls)."""
    calls, before = call_kpis_compared(session, viewer, period, f)
    by_hour = calls_by_hour(session, viewer, period, f)
    pairs = calls_by_agent_and_number(session, viewer, period, f)
    return OverviewData(
        calls=calls,
        calls_before=before,
        cases=case_stats(session, viewer, period),
        tickets=ticket_stats(session, viewer, period),
        per_day=daily_counts(by_hour, period, f.weekday, f.hour),
        per_hour=hourly_counts(by_hour, period, f.weekday, f.hour)
        if len(period.days()) == 1
        else None,
        heatmap=weekly_heatmap(by_hour),
        agents=agent_rates(pairs),
        numbers=number_counts(pairs),
    )


def has_calls(session: Session, viewer: Viewer) -> bool:
    """Whether the viewer may see any call at all, whenever: one indexed probe that tells
    "nothing in this range" from "nothing synced yet" when a range comes back empty."""
    return session.scalar(select(Call.id).where(visible(viewer, Call)).limit(1)) is not None


# --- filter choices -------------------------------------------------------------------------


def phone_choices(session: Session, viewer: Viewer) -> list[tuple[int, str]]:
    """(id, "label · number") of the numbers the viewer may filter on."""
    stmt = (
        select(PhoneNumber.id, PhoneNumber.number, PhoneNumber.label)
        .where(visible(viewer, PhoneNumber))
        .order_by(PhoneNumber.label, PhoneNumber.number)
    )
    return [
        (pid, f"{label} · {number}" if label else number)
        for pid, number, label in session.execute(stmt)
    ]


def agent_choices(session: Session, viewer: Viewer) -> list[tuple[int, str]]:
    """(id, name) of the agents the viewer may filter on.

    Managers and admins pick among the organisation's members; an agent among the people
    who answer on their own numbers (themselves and colleagues sharing a number).
    """
    label = func.coalesce(func.nullif(User.name, ""), User.email)
    if viewer.org_id is None or viewer.role is None:
        return []
    if viewer.may(SEE_ORG):
        people = select(Membership.user_id).where(visible(viewer, Membership))
    else:
        people = select(PhoneAssignment.user_id).where(
            visible(viewer, PhoneAssignment),
            PhoneAssignment.phone_number_id.in_(sorted(viewer.phone_number_ids) or [-1]),
        )
    stmt = select(User.id, label).where(User.id.in_(people)).order_by(label, User.id)
    return [(uid, name) for uid, name in session.execute(stmt)]


# --- grouped KPIs for reports -----------------------------------------------------------------


class utc_day(FunctionElement):  # noqa: N801
    """The UTC day of a timestamp column as 'YYYY-MM-DD' text."""

    name = "utc_day"
    inherit_cache = True


class utc_week(FunctionElement):  # noqa: N801
    """The Monday starting the UTC week of a timestamp column, as 'YYYY-MM-DD' text."""

    name = "utc_week"
    inherit_cache = True


class utc_month(FunctionElement):  # noqa: N801
    """The first day of the UTC month of a timestamp column, as 'YYYY-MM-DD' text."""

    name = "utc_month"
    inherit_cache = True


# Literal SQL (no bound parameters), so GROUP BY repeats SELECT's expression exactly.
@compiles(utc_day, "postgresql")
def _pg_day(element, compiler, **kw):
    return f"to_char({_arg(element, compiler, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@compiles(utc_week, "postgresql")
def _pg_week(element, compiler, **kw):
    col = _arg(element, compiler, **kw)
    return f"to_char(date_trunc('week', {col} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"


@compiles(utc_month, "postgresql")
def _pg_month(element, compiler, **kw):
    return f"to_char({_arg(element, compiler, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM-01')"


@compiles(utc_day, "sqlite")
def _sqlite_day(element, compiler, **kw):
    return f"strftime('%Y-%m-%d', {_arg(element, compiler, **kw)})"


@compiles(utc_week, "sqlite")
def _sqlite_week(element, compiler, **kw):
    return f"date({_arg(element, compiler, **kw)}, 'weekday 0', '-6 days')"


@compiles(utc_month, "sqlite")
def _sqlite_month(element, compiler, **kw):
    return f"strftime('%Y-%m-01', {_arg(element, compiler, **kw)})"


TIME_BUCKETS = {"day": utc_day, "week": utc_week, "month": utc_month}


def call_kpis_by(
    session: Session,
    viewer: Viewer,
    key,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[tuple[object, CallKpis]]:
    """`call_kpis` per value of `key` (a TIME_BUCKETS bucket of Call.started_at, Call.agent_id…)."""
    stmt = (
        select(key, *_call_columns(true()))
        .where(*call_filters(viewer, start=start, end=end))
        .group_by(key)
    )
    return [(row[0], _to_kpis(row[1:])) for row in session.execute(stmt)]


def count_by(
    session: Session, viewer: Viewer, model, when, key, *, start: datetime, end: datetime
) -> dict[object, int]:
    """How many of `model`'s visible rows have `when` in [start, end), per value of `key`."""
    stmt = (
        select(key, func.count())
        .where(visible(viewer, model), when >= start, when < end)
        .group_by(key)
    )
    return {k: int(n) for k, n in session.execute(stmt)}
