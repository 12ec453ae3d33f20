"""Runs as the sync console shows them: live figures for the progress polls, the history
page with its filters, a run's detail, and what the sync modal describes before a start.

Every read is scoped through `visible()` (the history's filters through `run_clauses`);
what a query must know about connectors comes from the caller as `catalogue`.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.calls import org_slug
from models.connections import get_connection
from models.connector_facts import Catalogue, stream_of
from models.orgs import User
from models.paging import ColumnExpr, TablePage, fetch_page
from models.params import id_or_none
from models.runs import get_run, run_clauses
from models.scope import Viewer, visible
from models.sync import ACTIVE, Connection, SyncRun
from models.sync_errors import NotFound
from models.sync_options import OptionsError, parse_options

WATCH_LIMIT = 50

RUN_COLUMNS = (
    SyncRun.id,
    SyncRun.connection_id,
    SyncRun.stream,
    SyncRun.lock_key,
    SyncRun.status,
    SyncRun.trigger,
    SyncRun.total,
    SyncRun.processed,
    SyncRun.created,
    SyncRun.updated,
    SyncRun.unchanged,
    SyncRun.failed,
    SyncRun.created_at,
    SyncRun.started_at,
    SyncRun.finished_at,
)


def run_snapshot(row: Any, connection_name: str | None = None) -> dict[str, Any]:
    """A run's progress figures as JSON-safe values (what the live widgets need).

    `row` is a SyncRun or a row selected with RUN_COLUMNS.
    """
    data = {
        "id": row.id,
        "connection_id": row.connection_id,
        "stream": row.stream,
        "status": row.status,
        "total": row.total,
        "processed": row.processed or 0,
        "created": row.created or 0,
        "updated": row.updated or 0,
        "failed": row.failed or 0,
    }
    if connection_name is not None:
        data["connection"] = connection_name
    return data


def watch_runs(session: Session, viewer: Viewer, run_ids: list[Any]) -> list[dict[str, Any]]:
    """The live figures of the watched runs: one primary-key lookup, ids of other orgs ignored."""
    ids = sorted({i for i in map(id_or_none, run_ids) if i is not None})[:WATCH_LIMIT]
    if not ids:
        return []
    rows = session.execute(
        select(*RUN_COLUMNS, Connection.name.label("connection_name"))
        .join(Connection, Connection.id == SyncRun.connection_id)
        .where(SyncRun.id.in_(ids), visible(viewer, SyncRun))
    )
    return [run_snapshot(row, row.connection_name) for row in rows]


def active_runs(
    session: Session, viewer: Viewer, connection_ids: list[int] | None = None
) -> list[dict[str, Any]]:
    """Queued and running runs of the viewer's organisation (optionally of some connections)."""
    clauses = [visible(viewer, SyncRun), SyncRun.status.in_(ACTIVE)]
    if connection_ids is not None:
        clauses.append(SyncRun.connection_id.in_(connection_ids))
    rows = session.execute(select(*RUN_COLUMNS).where(*clauses).order_by(SyncRun.id))
    return [run_snapshot(row) for row in rows]


def run_duration(
    started: datetime | None, finished: datetime | None, now: datetime
) -> float | None:
    """Seconds a run took (or has taken so far); None before it started."""
    if started is None:
        return None
    return max(((finished or now) - started).total_seconds(), 0.0)


#: The history grid's sortable columns (pages/_syncs_view.py names its fields after these keys).
HISTORY_SORTABLE: dict[str, ColumnExpr] = {
    "run": SyncRun.id,
    "started": SyncRun.created_at,
    "connection": Connection.name,
    "stream": SyncRun.stream,
    "trigger": SyncRun.trigger,
    "status": SyncRun.status,
    "processed": SyncRun.processed,
    "created": SyncRun.created,
    "updated": SyncRun.updated,
    "failed": SyncRun.failed,
}


#: A user's name as the pages show it: the email when no name was given.
USER_NAME = func.coalesce(func.nullif(User.name, ""), User.email)


def user_name_of(column: Any) -> Any:
    """USER_NAME of the user whose id is in `column` (NULL for none or a deleted user)."""
    return select(USER_NAME).where(User.id == column).scalar_subquery()


def history_page(
    session: Session,
    viewer: Viewer,
    *,
    connection_id: Any = None,
    stream: str | None = None,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    sort: str | None = None,
    descending: bool = False,
    page: int = 0,
    page_size: int = 25,
) -> TablePage:
    """A page of the org's runs (newest first unless `sort` names a HISTORY_SORTABLE
    column), with connection names, durations and who cancelled.

    A connection id that cannot exist matches no run; a page past what SQL can skip to is
    empty (with the total), and an unknown sort key falls back to newest first, so forged
    paging is never an overflow nor a way into SQL.
    """
    if connection_id is not None:
        connection_id = id_or_none(connection_id)
        if connection_id is None:
            return TablePage([], 0, 0, page_size)
    clauses = run_clauses(
        viewer, connection_id=connection_id, stream=stream, status=status, start=start, end=end
    )
    columns: list[Any] = [
        *RUN_COLUMNS,
        Connection.name.label("connection_name"),
        user_name_of(SyncRun.cancelled_by_id).label("cancelled_by"),
    ]
    stmt = select(*columns).join(Connection, Connection.id == SyncRun.connection_id).where(*clauses)
    result = fetch_page(
        session,
        stmt,
        sortable=HISTORY_SORTABLE,
        sort=sort,
        descending=descending,
        default_sort=SyncRun.id,
        page=page,
        page_size=page_size,
        tiebreak=SyncRun.id,
        key=SyncRun.id,
    )
    now = utcnow()
    items = []
    for row in result.rows:
        run = SimpleNamespace(**row)
        item = run_snapshot(run, row["connection_name"])
        item.update(
            trigger=run.trigger,
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            duration=run_duration(run.started_at, run.finished_at, now),
            cancelled_by=run.cancelled_by,
        )
        items.append(item)
    return TablePage(items, result.total, result.page, result.page_size)


def history_filters(session: Session, viewer: Viewer, *, catalogue: Catalogue) -> dict[str, list]:
    """Choices for the history filters: the org's connections and their streams."""
    conns = session.execute(
        select(Connection.id, Connection.name, Connection.connector)
        .where(visible(viewer, Connection))
        .order_by(Connection.name)
    ).all()
    streams: set[str] = set()
    for _cid, _name, key in conns:
        facts = catalogue.get(key)
        streams.update(s.name for s in (facts.streams if facts else ()))
    return {"connections": [(cid, name) for cid, name, _k in conns], "streams": sorted(streams)}


def run_detail(session: Session, viewer: Viewer, run_id: Any) -> dict[str, Any]:
    """Everything the run page shows, including the equivalent command line."""
    run = get_run(session, viewer, run_id)
    conn = session.get(Connection, run.connection_id)
    if conn is None:  # deleted since (its runs go with it)
        raise NotFound(f"No run {run_id} in this organisation.")
    try:
        command = parse_options(run.options).command(
            org_slug(session, viewer), conn.name, run.stream
        )
    except OptionsError:
        command = None
    stats = run.stats or {}
    duration = run_duration(run.started_at, run.finished_at, utcnow())
    return run_snapshot(run, conn.name) | {
        "connection_name": conn.name,
        "trigger": run.trigger,
        "options": dict(run.options or {}),
        "command": command,
        "unchanged": run.unchanged,
        "error": run.error,
        "error_samples": list(run.error_samples or []),
        "debug_log": run.debug_log,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration": duration,
        "records_per_second": stats.get("records_per_second"),
        "pages": stats.get("pages"),
        "requests": stats.get("requests"),
        "retries": stats.get("retries"),
        "http_seconds": stats.get("http_seconds"),
        "cancel_requested": run.cancel_requested,
        "cancelled_by": session.scalar(select(USER_NAME).where(User.id == run.cancelled_by_id))
        if run.cancelled_by_id is not None
        else None,
    }


def sync_target(
    session: Session,
    viewer: Viewer,
    connection_id: Any,
    stream: str | None,
    *,
    catalogue: Catalogue,
) -> dict[str, Any]:
    """What the sync modal needs to describe a run before it starts."""
    conn = get_connection(session, viewer, connection_id)
    if stream:
        stream_of(conn, stream, catalogue)
    return {
        "connection": conn.id,
        "stream": stream or None,
        "name": conn.name,
        "org": org_slug(session, viewer),
    }
