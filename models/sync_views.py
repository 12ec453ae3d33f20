"""Read models of the sync console: source cards, stream rows, live-progress polls, history.

Every function takes the viewer and reads only the viewer's organisation; the few writes
here (add, edit, delete a connection) check that the viewer may manage syncs first. A
source's streams count and list the records of that connection only (records are keyed
on the connection that brought them, models/records.py). What a query must know about
connectors (labels, addresses, streams) comes from the caller as `catalogue`
(models/connector_facts.py): models/ never imports connectors.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, String, Text, delete, func, or_, select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.connections import create_connection, get_connection
from models.connector_facts import Catalogue, connection_streams, stream_of
from models.credentials import decrypt_credentials, encrypt_credentials
from models.orgs import Organization
from models.paging import TablePage, contains_clause, fetch_page, search_clause
from models.params import id_or_none, offset_fits
from models.records import SyncedMixin
from models.runs import get_run, run_clauses
from models.scope import DENIED, MANAGE_SYNCS, AccessDenied, Viewer, visible
from models.sync import ACTIVE, FINISHED, Connection, SyncRun, SyncState
from models.sync_errors import NotFound, SyncConflict
from models.sync_options import OptionsError, parse_options
from models.upserts import TARGETS
from models.url_origin import origin

#: Worst first: the health of a source is the worst status among its streams' latest runs.
HEALTH_ORDER = ("failed", "partial", "cancelled", "success")
HIDDEN_COLUMNS = {"raw", "org_id", "connection_id", "origin_connection_id"}
#: The connector whose records are generated, not a copy of anyone's data: deleting its
#: connection may take them along (everyone else's records are kept, detached).
DEMO_CONNECTOR = "demo"
WATCH_LIMIT = 50
NAME_LIMIT = 200


def org_slug(session: Session, viewer: Viewer) -> str:
    org = session.get(Organization, viewer.org_id) if viewer.org_id else None
    return org.slug if org else ""


# --- runs as small plain dicts ------------------------------------------------------------

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


def _run_dict(row: Any, connection_name: str | None = None) -> dict[str, Any]:
    """A run's progress figures as JSON-safe values (what the live widgets need)."""
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


def run_snapshot(run: SyncRun, connection_name: str | None = None) -> dict[str, Any]:
    return _run_dict(run, connection_name)


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
    return [_run_dict(row, row.connection_name) for row in rows]


def active_runs(
    session: Session, viewer: Viewer, connection_ids: list[int] | None = None
) -> list[dict[str, Any]]:
    """Queued and running runs of the viewer's organisation (optionally of some connections)."""
    clauses = [visible(viewer, SyncRun), SyncRun.status.in_(ACTIVE)]
    if connection_ids is not None:
        clauses.append(SyncRun.connection_id.in_(connection_ids))
    rows = session.execute(select(*RUN_COLUMNS).where(*clauses).order_by(SyncRun.id))
    return [_run_dict(row) for row in rows]


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
    rows = session.execute(select(*RUN_COLUMNS).where(SyncRun.id.in_(newest)))
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


# --- sources ------------------------------------------------------------------------------


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
    )


def _saved_secret_names(conn: Connection) -> tuple[str, ...]:
    """Which secrets a connection holds, by name; unreadable ones count as not saved."""
    try:
        return tuple(sorted(decrypt_credentials(conn.credentials_encrypted)))
    except ValueError:
        return ()


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


# --- writes of the console (org admins) ---------------------------------------------------


def _synced_models() -> list[type[SyncedMixin]]:
    return [t.model for t in TARGETS.values() if issubclass(t.model, SyncedMixin)]


def _require_manager_of_syncs(viewer: Viewer) -> int:
    """The id of the organisation whose syncs the viewer may manage; AccessDenied if none."""
    viewer.require_to(MANAGE_SYNCS)
    if viewer.org_id is None:  # may() grants nothing without one; this tells the type checker
        raise AccessDenied(DENIED[MANAGE_SYNCS])
    return viewer.org_id


def add_connection(
    session: Session,
    viewer: Viewer,
    *,
    connector: str,
    name: str,
    base_url: str = "",
    token: str = "",
    schedule_minutes: int | None = None,
    settings: dict[str, Any] | None = None,
    credentials: dict[str, str] | None = None,
    catalogue: Catalogue,
) -> Connection:
    """A new connection of the viewer's org; ValueError says what is wrong, in words.

    `credentials` are the connector's secret settings (all stored encrypted); `token` is
    the one named token, kept for callers that have only that. `catalogue` says which
    connectors are installed.
    """
    org_id = _require_manager_of_syncs(viewer)
    if (connector or "") not in catalogue:
        raise ValueError("Choose a connector.")
    if len((name or "").strip()) > NAME_LIMIT:
        raise ValueError(f"A name has at most {NAME_LIMIT} characters.")
    return create_connection(
        session,
        org_id=org_id,
        connector=connector,
        name=name,
        base_url=base_url,
        credentials=dict(credentials or {}) | ({"token": token} if token else {}),
        settings=settings or {},
        schedule_minutes=schedule_minutes,
        created_by_id=viewer.user_id,
    )


@dataclass
class SettingsSaved:
    """A saved connection, and whether its credentials were dropped by the save."""

    connection: Connection
    credentials_cleared: bool = False


def update_connection(
    session: Session,
    viewer: Viewer,
    connection_id: Any,
    *,
    base_url: str | None = None,
    token: str | None = None,
    credentials: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
    catalogue: Catalogue,
) -> SettingsSaved:
    """Change the base URL, replace secrets (an empty one keeps the saved one), set settings.

    Credentials belong to the address they were entered for: when the origin (scheme,
    host, port) of the base URL changes, every saved secret is dropped unless a new token
    comes with the same save, so a token is never sent to a host nobody typed it for.
    `settings` are the connection's plain settings as they are to be saved: the caller
    merges the form's into the saved ones (Connector.merged_settings keeps undeclared ones).
    """
    _require_manager_of_syncs(viewer)
    conn = get_connection(session, viewer, connection_id)
    typed = dict(credentials or {}) | ({"token": token} if token else {})
    cleared = False
    if base_url is not None:
        new_url = base_url.strip()[:500]
        facts = catalogue.get(conn.connector)
        default = facts.default_base_url if facts else ""
        if origin(new_url or default) != origin(conn.base_url or default):
            cleared = bool(conn.credentials_encrypted) and not typed
            conn.credentials_encrypted = ""
        conn.base_url = new_url
    if typed:
        try:
            saved = decrypt_credentials(conn.credentials_encrypted)
        except ValueError:
            saved = {}
        conn.credentials_encrypted = encrypt_credentials(saved | typed)
    if settings is not None:
        conn.settings = dict(settings)
    session.flush()
    return SettingsSaved(conn, cleared)


def delete_connection(
    session: Session, viewer: Viewer, connection_id: Any, *, purge_demo_records: bool = False
) -> str:
    """Remove a connection with its runs and cursors; the records it synced are kept, detached.

    Kept rows lose their connection (the foreign key sets connection_id NULL) and keep their
    source label, so the record pages, charts and exports still show them; no other
    connection's rows are touched. A demo connection's records are generated, not anyone's
    data, so `purge_demo_records` deletes them with it (the seeder's demo rows, which no
    connection brought, stay). Asked of any other connector, it keeps the records.
    """
    _require_manager_of_syncs(viewer)
    conn = get_connection(session, viewer, connection_id)
    running = session.scalar(
        select(SyncRun.id).where(SyncRun.connection_id == conn.id, SyncRun.status.in_(ACTIVE))
    )
    if running is not None:
        raise SyncConflict(running, f"Stop the sync in progress (run {running}) before deleting.")
    name = conn.name
    if purge_demo_records and conn.connector == DEMO_CONNECTOR:
        for model in _synced_models():
            session.execute(delete(model).where(model.connection_id == conn.id))
    session.execute(delete(SyncState).where(SyncState.connection_id == conn.id))
    session.execute(delete(SyncRun).where(SyncRun.connection_id == conn.id))
    session.delete(conn)
    session.flush()
    return name


# --- history and run detail ---------------------------------------------------------------


def _duration(started: datetime | None, finished: datetime | None, now: datetime) -> float | None:
    if started is None:
        return None
    return max(((finished or now) - started).total_seconds(), 0.0)


def history_page(
    session: Session,
    viewer: Viewer,
    *,
    connection_id: int | None = None,
    stream: str | None = None,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    page: int = 0,
    page_size: int = 25,
) -> tuple[list[dict[str, Any]], int]:
    """A page of the org's runs, newest first, with connection names and durations.

    A connection id that cannot exist matches no run; a page past what SQL can skip to is
    empty (with the total), so forged paging is never an overflow.
    """
    if connection_id is not None:
        connection_id = id_or_none(connection_id)
        if connection_id is None:
            return [], 0
    clauses = run_clauses(
        viewer, connection_id=connection_id, stream=stream, status=status, start=start, end=end
    )
    total = session.scalar(select(func.count(SyncRun.id)).where(*clauses)) or 0
    offset = max(page, 0) * page_size
    if not offset_fits(offset):
        return [], total
    rows = session.execute(
        select(*RUN_COLUMNS, Connection.name.label("connection_name"))
        .join(Connection, Connection.id == SyncRun.connection_id)
        .where(*clauses)
        .order_by(SyncRun.id.desc())
        .limit(page_size)
        .offset(offset)
    )
    now = utcnow()
    items = []
    for row in rows:
        item = _run_dict(row, row.connection_name)
        item.update(
            trigger=row.trigger,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            duration=_duration(row.started_at, row.finished_at, now),
        )
        items.append(item)
    return items, total


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
    duration = _duration(run.started_at, run.finished_at, utcnow())
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
    }


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
        select(SyncRun.id, SyncRun.finished_at, SyncRun.error, SyncRun.error_samples)
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
    for run_id, finished, error, sampled in samples:
        if error:
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
        latest_dict = _run_dict(latest, conn.name) | {
            "trigger": latest.trigger,
            "finished_at": latest.finished_at,
            "started_at": latest.started_at,
            "duration": _duration(latest.started_at, latest.finished_at, utcnow()),
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


# --- a stream's records -------------------------------------------------------------------


def humanise(column: str) -> str:
    """`started_at` → "Started at", `external_id` → "External ID"."""
    words = column.split("_")
    words = ["ID" if w == "id" else "URL" if w == "url" else w for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _columns(model) -> list:
    return [c for c in model.__table__.columns if c.key not in HIDDEN_COLUMNS]


def stream_columns(model_name: str) -> list[tuple[str, str]]:
    """(key, header) of a stream's table, read from the model."""
    return [(c.key, humanise(c.key)) for c in _columns(TARGETS[model_name].model)]


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
    columns = _columns(model)
    stmt = select(*columns).where(visible(viewer, model), *_of_connection(conn, found.model))
    texts = [c for c in columns if isinstance(c.type, String | Text) and c.key != "source"]
    found_clause = search_clause(texts, search)
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
        sortable={c.key: c for c in columns},
        sort=sort,
        descending=descending,
        default_sort=model.id,
        page=page,
        page_size=page_size,
        tiebreak=model.id,
    )
    types = {c.key: c.type for c in columns}
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
    columns = _columns(TARGETS[found.model].model)
    return Export(header=[humanise(c.key) for c in columns], name_parts=(conn.name, found.name))


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
