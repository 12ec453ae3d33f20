"""A stream of a connection as the sync console shows it: its latest run and the record
errors sampled by recent runs, and its records in our database (paged, searched, sorted
and exported), with columns read from the stream's model.

Every read is scoped through `visible()`; the stream is looked up in the caller's `catalogue`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, String, Text, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from models.base import utcnow
from models.connections import get_connection
from models.connector_facts import Catalogue, stream_of
from models.orgs import Membership, PhoneNumber, User
from models.paging import TablePage, fetch_page, search_clause
from models.records import Cluster, Contact, Office
from models.run_views import RUN_COLUMNS, run_duration, run_snapshot
from models.scope import Viewer, visible
from models.sync import FINISHED, Connection, SyncRun
from models.upserts import TARGETS

HIDDEN_COLUMNS = {"raw", "org_id", "connection_id", "origin_connection_id"}


def _of_connection(conn: Connection, model_name: str) -> list:
    """The rows of a stream's table that belong to this connection (numbers: the org's).

    Not an access rule: every caller also applies `visible()`, which decides what the
    viewer may see; this only narrows the table to the connection's share of it.
    """
    target = TARGETS[model_name]
    if not target.by_source:
        return [target.model.org_id == conn.org_id]
    return [target.model.connection_id == conn.id]


def records_visible(session: Session, viewer: Viewer, model_name: str, conn: Connection) -> int:
    """How many of the connection's rows of a stream's table the viewer sees (scoped as every read)."""
    model = TARGETS[model_name].model
    clauses = [visible(viewer, model), *_of_connection(conn, model_name)]
    return session.scalar(select(func.count()).select_from(model).where(*clauses)) or 0


STREAM_FIGURES = ("total", "processed", "created", "updated", "unchanged", "failed")


def _own_figures(run: Any, stream: str) -> dict[str, Any]:
    """A finished all-streams run's counters for one stream (workers/engine.py records them).

    Runs in progress keep the run's live totals (what the progress poll shows), and runs
    from before the engine counted per stream have none: the page then says "all streams".
    """
    streams = (run.stats or {}).get("streams")
    if run.stream is not None or run.status not in FINISHED or not isinstance(streams, dict):
        return {}
    own = streams.get(stream)
    own = own if isinstance(own, dict) else {}  # a stream the run never reached: nothing
    figures = {k: own.get(k) for k in STREAM_FIGURES}
    figures |= {k: v or 0 for k, v in figures.items() if k != "total"}
    return figures | {"stream_figures": True}


def stream_summary(
    session: Session,
    viewer: Viewer,
    connection_id: Any,
    stream: Any,
    *,
    catalogue: Catalogue,
    recent: int = 10,
) -> dict[str, Any]:
    """A stream's latest run and the record errors sampled by its recent runs."""
    conn = get_connection(session, viewer, connection_id)
    found = stream_of(conn, stream, catalogue)
    covers = or_(SyncRun.stream == found.name, SyncRun.stream.is_(None))
    latest = session.execute(
        select(*RUN_COLUMNS, SyncRun.stats)
        .where(visible(viewer, SyncRun), SyncRun.connection_id == conn.id, covers)
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).first()
    samples = session.execute(
        select(
            SyncRun.id, SyncRun.finished_at, SyncRun.status, SyncRun.error, SyncRun.error_samples
        )
        .where(
            visible(viewer, SyncRun),
            SyncRun.connection_id == conn.id,
            covers,
            SyncRun.status.in_(FINISHED),
        )
        .order_by(SyncRun.id.desc())
        .limit(recent)
    ).all()
    errors = []
    for run_id, finished, status, error, sampled in samples:
        # A cancel is what someone asked for, not an error: the run shows as cancelled.
        if error and status != "cancelled":
            errors.append({"run": run_id, "when": finished, "record": "", "reason": error})
        for item in sampled or []:
            if item.get("stream") in (None, found.name):
                errors.append(
                    {
                        "run": run_id,
                        "when": finished,
                        "record": item.get("record") or "",
                        "reason": item.get("reason") or "",
                    }
                )
    latest_dict = None
    if latest is not None:
        latest_dict = run_snapshot(latest, conn.name) | {
            "trigger": latest.trigger,
            "finished_at": latest.finished_at,
            "started_at": latest.started_at,
            "duration": run_duration(latest.started_at, latest.finished_at, utcnow()),
            "stream_figures": False,
        }
        latest_dict |= _own_figures(latest, found.name)
    return {
        "connection": conn.id,
        "connection_name": conn.name,
        "connector": conn.connector,
        "stream": found.name,
        "model": found.model,
        "description": found.description,
        "latest": latest_dict,
        "errors": errors[:50],
    }


def humanise(column: str) -> str:
    """`started_at` → "Started at", `external_id` → "External ID"."""
    words = column.split("_")
    words = ["ID" if w == "id" else "URL" if w == "url" else w for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _columns(model) -> list:
    return [c for c in model.__table__.columns if c.key not in HIDDEN_COLUMNS]


def _person(user) -> Any:
    return func.coalesce(func.nullif(user.name, ""), user.email)


def _contact_name(contact) -> Any:
    full = func.trim(contact.first_name + " " + contact.last_name)
    return func.coalesce(func.nullif(full, ""), contact.email, contact.phone)


#: Tables a stream's ids point at, and how a person names one of their rows. An id column
#: referring to one of these is shown as that name (Agent "Dana Reyes", not Agent ID 7).
NAMED: dict[str, tuple[Any, Any]] = {
    "users": (User, _person),
    "phone_numbers": (PhoneNumber, lambda n: n.number),
    "contacts": (Contact, _contact_name),
    "offices": (Office, lambda o: o.name),
    "clusters": (Cluster, lambda c: c.name),
}


@dataclass(frozen=True)
class Shown:
    """One column of a stream's table: its key, header and the SQL expression it reads."""

    key: str
    header: str
    expr: Any
    text: bool  # searched by the table's search box


def _referenced(column) -> str | None:
    keys = list(column.foreign_keys)
    return keys[0].column.table.name if len(keys) == 1 else None


def _shown_columns(model) -> tuple[list[Shown], list[tuple[Any, Any]]]:
    """The table's columns with ids of rows we hold replaced by names, and the outer joins
    that read those names (each within the record's organisation), resolved in SQL so
    sorting, searching, paging and the CSV export all see the same names."""
    shown: list[Shown] = []
    joins: list[tuple[Any, Any]] = []
    for column in _columns(model):
        table = _referenced(column)
        if table not in NAMED or not column.key.endswith("_id"):
            text = isinstance(column.type, String | Text) and column.key != "source"
            shown.append(Shown(column.key, humanise(column.key), column, text))
            continue
        target, name_of = NAMED[table]
        ref: Any = aliased(target, name=f"ref_{column.key}")
        if target is User:
            # users belong to organisations through memberships: only a member is named
            member = aliased(Membership, name=f"member_{column.key}")
            joins.append((member, and_(member.user_id == column, member.org_id == model.org_id)))
            joins.append((ref, ref.id == member.user_id))
        else:
            joins.append((ref, and_(ref.id == column, ref.org_id == model.org_id)))
        key = column.key.removesuffix("_id")
        shown.append(Shown(key, humanise(key), name_of(ref).label(key), True))
    return shown, joins


def stream_columns(model_name: str) -> list[tuple[str, str]]:
    """(key, header) of a stream's table, read from the model (ids of held rows as names)."""
    shown, _joins = _shown_columns(TARGETS[model_name].model)
    return [(c.key, c.header) for c in shown]


def _records_stmt(
    session: Session,
    viewer: Viewer,
    connection_id: Any,
    stream: Any,
    search: str | None,
    catalogue: Catalogue,
):
    conn = get_connection(session, viewer, connection_id)
    found = stream_of(conn, stream, catalogue)
    model = TARGETS[found.model].model
    columns, joins = _shown_columns(model)
    source = model.__table__
    for ref, on in joins:
        source = source.outerjoin(ref, on)
    stmt = (
        select(*(c.expr for c in columns))
        .select_from(source)
        .where(visible(viewer, model), *_of_connection(conn, found.model))
    )
    found_clause = search_clause([c.expr for c in columns if c.text], search)
    if found_clause is not None:
        stmt = stmt.where(found_clause)
    return conn, found, model, columns, stmt


def display(value: Any, column_type: Any = None) -> Any:
    """A cell as a person reads it (datetimes to the minute, booleans as yes/no)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool) or isinstance(column_type, Boolean):
        return "yes" if value else "no"
    return value


def stream_records(
    session: Session,
    viewer: Viewer,
    connection_id: Any,
    stream: Any,
    *,
    catalogue: Catalogue,
    search: str | None = None,
    sort: str | None = None,
    descending: bool = False,
    page: int = 0,
    page_size: int = 25,
) -> TablePage:
    """One page of a stream's records held in our database, scoped like every read."""
    _conn, _found, model, columns, stmt = _records_stmt(
        session, viewer, connection_id, stream, search, catalogue
    )
    result = fetch_page(
        session,
        stmt,
        sortable={c.key: c.expr for c in columns},
        sort=sort,
        descending=descending,
        default_sort=model.id,
        page=page,
        page_size=page_size,
        tiebreak=model.id,
    )
    types = {c.key: getattr(c.expr, "type", None) for c in columns}
    rows = [{k: display(v, types.get(k)) for k, v in row.items()} for row in result.rows]
    return TablePage(rows, result.total, result.page, result.page_size)


@dataclass
class Export:
    header: list[str]
    name_parts: tuple[str, str]


def export_header(
    session: Session, viewer: Viewer, connection_id: Any, stream: Any, *, catalogue: Catalogue
) -> Export:
    """The CSV header and file name of a stream's export; NotFound for a foreign source."""
    conn = get_connection(session, viewer, connection_id)
    found = stream_of(conn, stream, catalogue)
    shown, _joins = _shown_columns(TARGETS[found.model].model)
    return Export(header=[c.header for c in shown], name_parts=(conn.name, found.name))


def export_rows(
    session: Session,
    viewer: Viewer,
    connection_id: Any,
    stream: Any,
    search: str | None = None,
    *,
    catalogue: Catalogue,
) -> Iterator[tuple]:
    """A stream's records as tuples from a server-side cursor (the session must stay open)."""
    _conn, _found, model, _columns, stmt = _records_stmt(
        session, viewer, connection_id, stream, search, catalogue
    )
    rows = session.execute(stmt.order_by(model.id).execution_options(yield_per=1000))
    return (tuple(row) for row in rows)
