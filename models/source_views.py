"""Sources as the sync console shows them: a card per connection with its health, and a
connection's page with its streams (last sync, status, records held, the run in progress).

Every read is scoped through `visible()`; a source's streams count the records of that
connection only (records are keyed on the connection that brought them, models/records.py).
What a query must know about connectors comes from the caller as `catalogue`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models.connections import get_connection
from models.connector_facts import Catalogue, connection_streams
from models.credentials import decrypt_credentials
from models.paging import contains_clause
from models.run_views import RUN_COLUMNS, active_runs, user_name_of
from models.scope import Viewer, visible
from models.stream_views import records_visible
from models.sync import FINISHED, Connection, SyncRun

#: Worst first: the health of a source is the worst status among its streams' latest runs.
HEALTH_ORDER = ("failed", "partial", "cancelled", "success")

#: The connector whose records are generated, not a copy of anyone's data: deleting its
#: connection may take them along (everyone else's records are kept, detached).
DEMO_CONNECTOR = "demo"


def _latest_finished(session: Session, viewer: Viewer, connection_ids: list[int]) -> dict:
    """{(connection id, lock key): latest finished run row} in one grouped query."""
    if not connection_ids:
        return {}
    newest = (
        select(func.max(SyncRun.id))
        .where(
            visible(viewer, SyncRun),
            SyncRun.connection_id.in_(connection_ids),
            SyncRun.status.in_(FINISHED),
        )
        .group_by(SyncRun.connection_id, SyncRun.lock_key)
    )
    rows = session.execute(
        select(*RUN_COLUMNS, user_name_of(SyncRun.cancelled_by_id).label("cancelled_by")).where(
            SyncRun.id.in_(newest)
        )
    )
    return {(row.connection_id, row.lock_key): row for row in rows}


def _effective(latest: dict, connection_id: int, stream: str):
    """The newer of the stream's own latest run and the latest all-streams run."""
    own = latest.get((connection_id, stream))
    every = latest.get((connection_id, "*"))
    candidates = [r for r in (own, every) if r is not None]
    return max(candidates, key=lambda r: r.id) if candidates else None


def health_of(statuses: list[str], running: bool) -> str:
    """running, never, or the worst of the latest statuses (failed > partial > cancelled > success)."""
    if running:
        return "running"
    for status in HEALTH_ORDER:
        if status in statuses:
            return status
    return "never"


@dataclass
class SourceCard:
    id: int
    name: str
    connector: str
    label: str
    icon: str
    streams: int
    last_sync: datetime | None
    health: str
    active: list[dict[str, Any]] = field(default_factory=list)


def _stream_names(conn: Connection, latest: dict, catalogue: Catalogue) -> list[str]:
    if conn.connector in catalogue:
        return [s.name for s in connection_streams(conn, catalogue)]
    return sorted({key for cid, key in latest if cid == conn.id and key != "*"})


def source_cards(
    session: Session, viewer: Viewer, search: str | None = None, *, catalogue: Catalogue
) -> list[SourceCard]:
    """A card per connection of the viewer's org, filtered by name/connector, with its health."""
    clauses = [visible(viewer, Connection)]
    text = (search or "").strip()
    if text:
        matching = [f.key for f in catalogue.values() if text.lower() in f.label.lower()]
        found = contains_clause([Connection.name, Connection.connector], text)
        clauses.append(or_(found, Connection.connector.in_(matching)) if matching else found)
    conns = list(session.scalars(select(Connection).where(*clauses).order_by(Connection.name)))
    ids = [c.id for c in conns]
    latest = _latest_finished(session, viewer, ids)
    running: dict[int, list[dict]] = {}
    for run in active_runs(session, viewer, ids) if ids else []:
        running.setdefault(run["connection_id"], []).append(run)
    cards = []
    for conn in conns:
        facts = catalogue.get(conn.connector)
        names = _stream_names(conn, latest, catalogue)
        runs = [r for r in (_effective(latest, conn.id, n) for n in names) if r is not None]
        if not names:
            runs = [r for (cid, _key), r in latest.items() if cid == conn.id]
        finished = [r.finished_at for r in runs if r.finished_at is not None]
        cards.append(
            SourceCard(
                id=conn.id,
                name=conn.name,
                connector=conn.connector,
                label=facts.label if facts else conn.connector,
                icon=(facts.icon if facts else None) or "plug",
                streams=len(names),
                last_sync=max(finished) if finished else None,
                health=health_of([r.status for r in runs], bool(running.get(conn.id))),
                active=running.get(conn.id, []),
            )
        )
    return cards


@dataclass
class StreamRow:
    name: str
    model: str
    description: str
    last_sync: datetime | None
    status: str | None
    last_run_id: int | None
    records: int
    active: dict[str, Any] | None


@dataclass
class SourceDetail:
    id: int
    name: str
    connector: str
    label: str
    icon: str
    docs: str
    base_url: str
    default_base_url: str
    token_saved: bool
    needs_token: bool
    schedule_minutes: int | None
    schedule_enabled: bool
    next_run_at: datetime | None
    health: str
    streams: list[StreamRow]
    runs: int
    active: list[dict[str, Any]]
    #: Its records are generated demo data, which deleting the connection may purge.
    demo_data: bool = False
    #: Names of the secret settings that are saved (never their values).
    secrets_saved: tuple[str, ...] = ()
    #: The connection's plain (non-secret) settings, for its settings form.
    settings: dict[str, Any] = field(default_factory=dict)
    #: Its newest finished run (id, stream, status, finished_at, cancelled_by), or None.
    last_run: dict[str, Any] | None = None


def source_detail(
    session: Session, viewer: Viewer, connection_id: Any, *, catalogue: Catalogue
) -> SourceDetail:
    """A connection with its streams: last sync, status, records held, the run in progress."""
    conn = get_connection(session, viewer, connection_id)
    facts = catalogue.get(conn.connector)
    latest = _latest_finished(session, viewer, [conn.id])
    active = active_runs(session, viewer, [conn.id])
    every = next((r for r in active if r["stream"] is None), None)
    rows = []
    for stream in connection_streams(conn, catalogue):
        last = _effective(latest, conn.id, stream.name)
        own = next((r for r in active if r["stream"] == stream.name), None)
        rows.append(
            StreamRow(
                name=stream.name,
                model=stream.model,
                description=stream.description,
                last_sync=last.finished_at if last else None,
                status=last.status if last else None,
                last_run_id=last.id if last else None,
                records=records_visible(session, viewer, stream.model, conn),
                active=own or every,
            )
        )
    runs = session.scalar(
        select(func.count(SyncRun.id)).where(
            visible(viewer, SyncRun), SyncRun.connection_id == conn.id
        )
    )
    return SourceDetail(
        id=conn.id,
        name=conn.name,
        connector=conn.connector,
        label=facts.label if facts else conn.connector,
        icon=(facts.icon if facts else None) or "plug",
        docs=facts.docs if facts else "",
        base_url=conn.base_url,
        default_base_url=facts.default_base_url if facts else "",
        token_saved=bool(conn.credentials_encrypted),
        needs_token=bool(facts and facts.needs_token),
        schedule_minutes=conn.schedule_minutes,
        schedule_enabled=conn.schedule_enabled,
        next_run_at=conn.next_run_at,
        health=health_of([r.status for r in rows if r.status], bool(active)),
        streams=rows,
        runs=runs or 0,
        active=active,
        demo_data=conn.connector == DEMO_CONNECTOR,
        secrets_saved=_saved_secret_names(conn),
        settings=dict(conn.settings or {}),
        last_run=_last_run(latest),
    )


def _last_run(latest: dict) -> dict[str, Any] | None:
    """The newest of a connection's latest finished runs (one per stream or all streams)."""
    if not latest:
        return None
    row = max(latest.values(), key=lambda r: r.id)
    return {
        "id": row.id,
        "stream": row.stream,
        "status": row.status,
        "finished_at": row.finished_at,
        "cancelled_by": row.cancelled_by,
    }


def _saved_secret_names(conn: Connection) -> tuple[str, ...]:
    """Which secrets a connection holds, by name; unreadable ones count as not saved."""
    try:
        return tuple(sorted(decrypt_credentials(conn.credentials_encrypted)))
    except ValueError:
        return ()
