"""SQL of the sync engine: connections, runs and their lifecycle, cursors, and batch upserts.

Writes are idempotent upserts keyed on the connection, (connection_id, external_id), so
two connections of one connector never touch each other's rows; a batch is one transaction, and a stream's cursor is saved in the same transaction as the batch it
covers, so a crash resumes with nothing lost and nothing duplicated.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import (
    JSON,
    CursorResult,
    String,
    and_,
    any_,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import array as pg_array
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from models.base import utcnow
from models.orgs import Membership, PhoneNumber, User
from models.params import id_or_none
from models.records import (
    Call,
    Case,
    CaseStatusChange,
    Cluster,
    Company,
    Contact,
    Deal,
    Office,
    Sms,
    Tag,
    Ticket,
    case_tags,
)
from models.scope import MANAGE_SYNCS, Viewer, visible
from models.sync import ACTIVE, Connection, ConnectionCheck, RunStatus, SyncRun, SyncState
from models.sync_options import SyncOptions
from settings import get_settings

HEARTBEAT_STALE = timedelta(seconds=40)
#: A test request no job took within this long is dropped (a person waits 20 s at most).
CHECK_TTL = timedelta(minutes=5)
ERROR_SAMPLES = 20
DEBUG_LOG_LIMIT = 200_000


class NotFound(LookupError):
    """No such thing for this viewer (also said when it exists in another org)."""


class SyncConflict(RuntimeError):
    """A run for this connection and stream is already queued or running."""

    def __init__(self, run_id: int | None, message: str):
        super().__init__(message)
        self.run_id = run_id


def _affected(session: Session, stmt: Executable) -> int:
    """Rows an UPDATE or DELETE changed: its result is a CursorResult, typed as a plain Result."""
    return cast(CursorResult, session.execute(stmt)).rowcount or 0


# --- credentials at rest ------------------------------------------------------------------


def _fernet() -> Fernet:
    """A Fernet key derived from SECRET_KEY: every process that can sign sessions can decrypt."""
    digest = hashlib.sha256(
        ("syncboard-credentials:" + get_settings().secret_key).encode()
    ).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_credentials(credentials: dict[str, str]) -> str:
    return _fernet().encrypt(json.dumps(credentials).encode()).decode() if credentials else ""


def decrypt_credentials(blob: str) -> dict[str, str]:
    if not blob:
        return {}
    try:
        return json.loads(_fernet().decrypt(blob.encode()))
    except InvalidToken as exc:
        raise ValueError(
            "Stored credentials cannot be decrypted (was SECRET_KEY changed?). Enter the token again."
        ) from exc


# --- tests of connections not saved yet ---------------------------------------------------


@dataclass(frozen=True)
class CheckRequest:
    """What a connection test job needs, credentials decrypted (it never leaves the worker)."""

    org_id: int
    connector: str
    base_url: str
    credentials: dict[str, str]
    settings: dict[str, Any]


def create_check(
    session: Session,
    *,
    org_id: int,
    connector: str,
    base_url: str,
    credentials: dict[str, str],
    settings: dict[str, Any] | None = None,
) -> int:
    """Keep a test of an unsaved connection for one job (which gets only the id); stale ones go."""
    purge_stale_checks(session)
    row = ConnectionCheck(
        org_id=org_id,
        connector=connector,
        base_url=(base_url or "").strip()[:500],
        credentials_encrypted=encrypt_credentials(credentials),
        settings=settings or {},
    )
    session.add(row)
    session.flush()
    return row.id


def take_check(session: Session, check_id: int) -> CheckRequest | None:
    """The request, decrypted, and its row deleted; None when it is gone or too old."""
    row = session.get(ConnectionCheck, check_id)
    if row is None:
        return None
    session.delete(row)
    session.flush()
    if row.created_at < utcnow() - CHECK_TTL:
        return None
    return CheckRequest(
        org_id=row.org_id,
        connector=row.connector,
        base_url=row.base_url,
        credentials=decrypt_credentials(row.credentials_encrypted),
        settings=dict(row.settings or {}),
    )


def discard_check(session: Session, check_id: int) -> None:
    """Drop a request whose job did not run (timed out, queue down); a no-op once it ran."""
    session.execute(delete(ConnectionCheck).where(ConnectionCheck.id == check_id))


def purge_stale_checks(session: Session, *, older_than: timedelta = CHECK_TTL) -> int:
    """Delete test requests no job took; returns how many."""
    cutoff = utcnow() - older_than
    stmt = delete(ConnectionCheck).where(ConnectionCheck.created_at < cutoff)
    return _affected(session, stmt)


# --- connections --------------------------------------------------------------------------


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
    return conn if _affected(session, stmt) == 1 else None


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


# --- runs ---------------------------------------------------------------------------------


def active_run(session: Session, connection_id: int, stream: str | None) -> SyncRun | None:
    """A queued or running run that overlaps (same stream, or one of them is 'all streams')."""
    overlap = or_(SyncRun.lock_key == "*", SyncRun.lock_key == (stream or "*"))
    if stream is None:
        overlap = SyncRun.lock_key.is_not(None)
    return session.scalar(
        select(SyncRun)
        .where(SyncRun.connection_id == connection_id, SyncRun.status.in_(ACTIVE), overlap)
        .order_by(SyncRun.id)
    )


def request_run(
    session: Session,
    conn: Connection,
    *,
    stream: str | None,
    options: SyncOptions,
    trigger: str,
    user_id: int | None = None,
) -> SyncRun:
    """A queued run; SyncConflict when one for the same connection and stream is active."""
    running = active_run(session, conn.id, stream)
    if running is not None:
        raise SyncConflict(running.id, _already(conn, running))
    run = SyncRun(
        org_id=conn.org_id,
        connection_id=conn.id,
        stream=stream,
        lock_key=stream or "*",
        trigger=trigger,
        requested_by_id=user_id,
        options=options.as_dict(),
        status=RunStatus.QUEUED.value,
        error_samples=[],
        stats={},
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError as exc:
        running = active_run(session, conn.id, stream)
        raise SyncConflict(running.id if running else None, _already(conn, running)) from exc
    return run


def _already(conn: Connection, run: SyncRun | None) -> str:
    what = f"{conn.name}" + (f" / {run.stream}" if run and run.stream else "")
    state = run.status if run else "running"
    return f"A sync of {what} is already {state} (run {run.id if run else '?'})."


def run_clauses(
    viewer: Viewer,
    *,
    connection_id: int | None = None,
    stream: str | None = None,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list:
    """The WHERE clauses of a filtered list of the viewer's runs (the page's and the API's)."""
    clauses = [visible(viewer, SyncRun)]
    if connection_id is not None:
        clauses.append(SyncRun.connection_id == connection_id)
    if stream:
        clauses.append(SyncRun.stream == stream)
    if status:
        clauses.append(SyncRun.status == status)
    if start is not None:
        clauses.append(SyncRun.created_at >= start)
    if end is not None:
        clauses.append(SyncRun.created_at < end)
    return clauses


def runs_visible(
    session: Session,
    viewer: Viewer,
    *,
    connection_id: int | None = None,
    stream: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[SyncRun], int]:
    """A page of the viewer's organisation's runs, newest first, and the total count."""
    clauses = run_clauses(viewer, connection_id=connection_id, stream=stream, status=status)
    total = session.scalar(select(func.count(SyncRun.id)).where(*clauses)) or 0
    rows = session.scalars(
        select(SyncRun).where(*clauses).order_by(SyncRun.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def latest_runs(session: Session, viewer: Viewer, connection_ids: list[int]) -> dict[int, SyncRun]:
    """{connection id: its newest run} for the viewer's connections, in one query."""
    if not connection_ids:
        return {}
    newest = (
        select(func.max(SyncRun.id))
        .where(visible(viewer, SyncRun), SyncRun.connection_id.in_(connection_ids))
        .group_by(SyncRun.connection_id)
    )
    return {
        run.connection_id: run
        for run in session.scalars(select(SyncRun).where(SyncRun.id.in_(newest)))
    }


def get_run(session: Session, viewer: Viewer, run_id: int | str) -> SyncRun:
    rid = id_or_none(run_id)
    if rid is None:
        raise NotFound(f"No sync run {run_id!r}.")
    run = session.scalar(select(SyncRun).where(SyncRun.id == rid, visible(viewer, SyncRun)))
    if run is None:
        raise NotFound(f"No sync run {run_id} in this organisation.")
    return run


def load_run(session: Session, run_id: int) -> SyncRun | None:
    """A run by id, for jobs and the CLI's progress bar (no viewer: they were given the id)."""
    return session.get(SyncRun, run_id)


def set_job_id(session: Session, run_id: int, job_id: str | None) -> SyncRun | None:
    """Record which job runs the run, unless the worker already did (claim_run)."""
    run = session.get(SyncRun, run_id)
    if run is not None and run.job_id is None:
        run.job_id = job_id
    return run


def claim_run(session: Session, run_id: int, job_id: str | None = None) -> bool:
    """queued → running, atomically; False when the run was cancelled or taken already."""
    now = utcnow()
    claimed = _affected(
        session,
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.status == RunStatus.QUEUED.value)
        .values(status=RunStatus.RUNNING.value, started_at=now, heartbeat_at=now, job_id=job_id),
    )
    session.commit()
    return claimed == 1


def beat(session: Session, run_id: int) -> None:
    session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.status == RunStatus.RUNNING.value)
        .values(heartbeat_at=utcnow())
    )
    session.commit()


def cancel_requested(session: Session, run_id: int) -> bool:
    return bool(session.scalar(select(SyncRun.cancel_requested).where(SyncRun.id == run_id)))


def request_cancel(session: Session, viewer: Viewer, run_id: int | str) -> SyncRun:
    """Queued runs end now; running runs stop at their next batch boundary."""
    viewer.require_to(MANAGE_SYNCS)
    run = get_run(session, viewer, run_id)
    if run.status == RunStatus.QUEUED.value:
        run.status = RunStatus.CANCELLED.value
        run.finished_at = utcnow()
        run.cancel_requested = True
        run.error = "Cancelled before it started."
    elif run.status == RunStatus.RUNNING.value:
        run.cancel_requested = True
    else:
        raise SyncConflict(run.id, f"Run {run.id} has already finished ({run.status}).")
    session.flush()
    return run


@dataclass
class Progress:
    """Counters of a run in progress, written after every committed batch."""

    total: int | None = None
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    samples: list[dict] = field(default_factory=list)

    def add_error(self, external_id: str | None, reason: str, stream: str | None = None) -> None:
        self.failed += 1
        if len(self.samples) < ERROR_SAMPLES:
            self.samples.append({"record": external_id, "stream": stream, "reason": reason[:500]})


def save_progress(
    session: Session, run_id: int, progress: Progress, stats: dict | None = None
) -> None:
    values: dict[str, Any] = dict(
        total=progress.total,
        processed=progress.processed,
        created=progress.created,
        updated=progress.updated,
        unchanged=progress.unchanged,
        failed=progress.failed,
        error_samples=list(progress.samples),
        heartbeat_at=utcnow(),
    )
    if stats is not None:
        values["stats"] = stats
    session.execute(update(SyncRun).where(SyncRun.id == run_id).values(**values))


def finish_run(
    session: Session,
    run_id: int,
    status: str,
    *,
    progress: Progress | None = None,
    error: str | None = None,
    stats: dict | None = None,
    debug_log: str | None = None,
) -> None:
    values: dict[str, Any] = dict(status=status, finished_at=utcnow(), error=error)
    if progress is not None:
        values.update(
            total=progress.total,
            processed=progress.processed,
            created=progress.created,
            updated=progress.updated,
            unchanged=progress.unchanged,
            failed=progress.failed,
            error_samples=list(progress.samples),
        )
    if stats is not None:
        values["stats"] = stats
    if debug_log is not None:
        values["debug_log"] = debug_log[-DEBUG_LOG_LIMIT:]
    session.execute(update(SyncRun).where(SyncRun.id == run_id).values(**values))
    session.commit()


def fail_run(session: Session, run_id: int, error: str) -> None:
    """Mark a run failed unless it already finished (a job's last word after a crash)."""
    session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.status.in_(ACTIVE))
        .values(status=RunStatus.FAILED.value, finished_at=utcnow(), error=error)
    )
    session.commit()


def reap_stale_runs(session: Session, *, stale_after: timedelta = HEARTBEAT_STALE) -> list[int]:
    """Fail running runs whose worker stopped beating (killed, crashed, machine lost)."""
    cutoff = utcnow() - stale_after
    stale = list(
        session.scalars(
            select(SyncRun.id).where(
                SyncRun.status == RunStatus.RUNNING.value,
                or_(SyncRun.heartbeat_at.is_(None), SyncRun.heartbeat_at < cutoff),
            )
        )
    )
    for run_id in stale:
        fail_run(
            session,
            run_id,
            "The worker running this sync stopped responding (it was killed or crashed). "
            "Everything committed before that is kept; run the sync again to finish.",
        )
    return stale


def fail_orphaned_runs(session: Session, reason: str) -> list[int]:
    """Fail every active run (the embedded runner lost its threads when the app restarted)."""
    ids = list(session.scalars(select(SyncRun.id).where(SyncRun.status.in_(ACTIVE))))
    for run_id in ids:
        fail_run(session, run_id, reason)
    return ids


# --- cursors ------------------------------------------------------------------------------


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


# --- batch upsert -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    model: type[Any]  # a mapped model; which columns it has (org_id, connection_id…) varies
    key: str = "external_id"
    version: str | None = None
    by_source: bool = True


TARGETS: dict[str, Target] = {
    "contacts": Target(Contact, version="updated_at"),
    "companies": Target(Company, version="updated_at"),
    "deals": Target(Deal, version="updated_at"),
    "calls": Target(Call),
    "sms_messages": Target(Sms),
    "cases": Target(Case, version="updated_at"),
    "tickets": Target(Ticket, version="updated_at"),
    "phone_numbers": Target(PhoneNumber, key="number", by_source=False),
}
SKIP_COMPARE = {"synced_at", "id"}


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0  # older versions ignored because we hold a newer one

    def __iadd__(self, other: UpsertResult) -> UpsertResult:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.stale += other.stale
        return self


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a == b
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) < 1e-9
        except (TypeError, ValueError):
            return False
    return a == b


def _key_scope(model, target: Target, org_id: int, source: str, connection_id: int | None):
    """Which rows share a sync key: the connection's, or (no connection) the unattached ones."""
    scope = [model.org_id == org_id]
    if not target.by_source:
        return scope
    if connection_id is not None:
        return [*scope, model.connection_id == connection_id]
    return [*scope, model.source == source, model.origin_connection_id.is_(None)]


def upsert_batch(
    session: Session,
    table: str,
    org_id: int,
    source: str,
    rows: list[dict[str, Any]],
    *,
    connection_id: int | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> UpsertResult:
    """Insert new rows and update changed ones, counting honestly; never an older over a newer.

    `rows` hold our model's columns; `tag_ids` on cases is applied to case_tags. Rows are
    matched within `connection_id` (what syncs pass); without one, among the rows of
    `source` that no connection brought (seeded and manual rows).
    """
    target = TARGETS[table]
    model = target.model
    key = target.key
    newest: dict[str, dict[str, Any]] = {}
    result = UpsertResult()
    for row in rows:
        k = str(row[key])
        kept = newest.get(k)
        if kept is not None:
            result.stale += 1
            version = target.version
            if version and row.get(version) and kept.get(version) and row[version] < kept[version]:
                continue
        newest[k] = row
    if not newest:
        return result
    cols = sorted({c for row in newest.values() for c in row} - {"tag_ids"})
    key_col = getattr(model, key)
    scope = _key_scope(model, target, org_id, source, connection_id)
    existing: dict[str, dict[str, Any]] = {}
    keys = list(newest)
    postgres = session.get_bind().dialect.name == "postgresql"
    for chunk in range(0, len(keys), 900):
        part = keys[chunk : chunk + 900]
        # One array parameter on PostgreSQL instead of 900 scalars: one short, cacheable statement.
        match = key_col == any_(pg_array(part, type_=String)) if postgres else key_col.in_(part)
        stmt = select(model.id, *(getattr(model, c) for c in cols)).where(*scope, match)
        for record in session.execute(stmt).mappings():
            existing[str(record[key])] = dict(record)
    inserts, updates, tag_sets, status_changes = [], [], {}, []
    now = utcnow()
    for k, row in newest.items():
        values = {c: row[c] for c in cols if c in row}
        old = existing.get(k)
        if old is None:
            values.update(org_id=org_id)
            if "source" in model.__table__.c:
                values["source"] = source
            if "connection_id" in model.__table__.c:
                values["connection_id"] = values["origin_connection_id"] = connection_id
            if "synced_at" in model.__table__.c:
                values["synced_at"] = now
            inserts.append((values, row.get("tag_ids")))
            continue
        if target.version and not force:
            old_v, new_v = old.get(target.version), values.get(target.version)
            if old_v is not None and new_v is not None and new_v < old_v:
                result.stale += 1
                continue
        changed = any(not _same(old.get(c), v) for c, v in values.items() if c not in SKIP_COMPARE)
        if not changed and not force:
            result.unchanged += 1
            continue
        values["id"] = old["id"]
        if "synced_at" in model.__table__.c:
            values["synced_at"] = now
        updates.append(values)
        if "tag_ids" in row:
            tag_sets[old["id"]] = row["tag_ids"]
        if table == "cases" and "status" in values and values["status"] != old.get("status"):
            status_changes.append(
                (old["id"], old.get("status"), values["status"], values.get("updated_at") or now)
            )
    result.created += len(inserts)
    result.updated += len(updates)
    if dry_run:
        return result
    if inserts and postgres and table != "cases":
        copy_rows(session, model.__table__, [values for values, _ in inserts])
    elif inserts:
        ids = session.scalars(
            insert(model).returning(model.id), [values for values, _ in inserts]
        ).all()
        if table == "cases":
            for new_id, (values, tags) in zip(ids, inserts, strict=True):
                if tags:
                    tag_sets[new_id] = tags
                status_changes.append(
                    (new_id, None, values.get("status", "new"), values.get("reported_at") or now)
                )
    if updates:
        session.execute(update(model), updates)
    if tag_sets:
        session.execute(delete(case_tags).where(case_tags.c.case_id.in_(list(tag_sets))))
        pairs = [
            {"case_id": cid, "tag_id": tid}
            for cid, tags in tag_sets.items()
            for tid in set(tags or [])
        ]
        if pairs:
            session.execute(insert(case_tags), pairs)
    if status_changes:
        session.execute(
            insert(CaseStatusChange),
            [
                {
                    "case_id": cid,
                    "from_status": old,
                    "to_status": new,
                    "changed_at": when,
                    "note": "sync",
                }
                for cid, old, new, when in status_changes
            ],
        )
    return result


def copy_rows(session: Session, table, rows: list[dict[str, Any]]) -> None:
    """Insert many new rows with COPY on the session's own connection (same transaction)."""
    from psycopg.types.json import Jsonb

    for row in rows:
        for column in table.c:
            if column.name not in row and column.default is not None and column.default.is_scalar:
                row[column.name] = column.default.arg
            elif (
                column.name not in row and column.default is not None and column.default.is_callable
            ):
                row[column.name] = column.default.arg(None)
    columns = sorted({c for row in rows for c in row})
    json_cols = {c for c in columns if isinstance(table.c[c].type, JSON)}
    quoted = ", ".join(f'"{c}"' for c in columns)
    raw = session.connection().connection.driver_connection
    if raw is None:  # only after the connection was invalidated
        raise RuntimeError("the database connection was lost before COPY")
    with raw.cursor().copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                [
                    Jsonb(row.get(c)) if c in json_cols and row.get(c) is not None else row.get(c)
                    for c in columns
                ]
            )


def refresh_statistics(session: Session, table: str) -> None:
    """ANALYZE a table that just went from empty to full, so key lookups use its index."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f'ANALYZE "{TARGETS[table].model.__tablename__}"'))


# --- lookups for mappers ------------------------------------------------------------------


class DbMappingContext:
    """The MappingContext connectors use, backed by this session; caches within a run.

    Numbers, offices, clusters and tags belong to the organisation, not to a connection, so
    two syncs at once (two connections of one connector) may both create the same one; the
    one that comes second reads the first one's row instead of failing its batch.
    """

    def __init__(self, session: Session, org_id: int, source: str, *, create: bool = True):
        self.session = session
        self.org_id = org_id
        self.source = source
        self.create = create
        self._numbers: dict[str, int | None] = {}
        self._agents: dict[str, int | None] = {}
        self._offices: dict[str, int | None] = {}
        self._clusters: dict[str, int | None] = {}
        self._tags: dict[str, int | None] = {}

    def phone_number_id(self, number: str | None, *, label: str = "") -> int | None:
        number = (number or "").strip()
        if not number:
            return None
        if number not in self._numbers:
            lookup = select(PhoneNumber.id).where(
                PhoneNumber.org_id == self.org_id, PhoneNumber.number == number
            )
            found = self.session.scalar(lookup)
            if found is None and self.create:
                values = dict(number=number, label=label or number, source=self.source)
                found = self._create(PhoneNumber, values, lookup)
            self._numbers[number] = found
        return self._numbers[number]

    def _create(self, model, values: dict[str, Any], lookup) -> int | None:
        """The id of a new row of `model`, or of the one another sync inserted first."""
        values = {"org_id": self.org_id, **values}
        bind = self.session.get_bind()
        if bind.dialect.name == "postgresql":
            # Committed at once on a connection of its own: an insert held until our batch
            # commits would make the other sync wait on it, and two syncs creating two
            # numbers in opposite orders would deadlock.
            with bind.engine.begin() as own:
                own.execute(pg_insert(model).values(**values).on_conflict_do_nothing())
            return self.session.scalar(lookup)
        # SQLite lets one writer in at a time, so the other sync's row is committed (or
        # not there) by the time this insert runs; a savepoint keeps our batch if it is.
        try:
            with self.session.begin_nested():
                return self.session.scalar(insert(model).values(**values).returning(model.id))
        except IntegrityError:
            return self.session.scalar(lookup)

    def agent_id(self, email: str | None) -> int | None:
        email = (email or "").strip().lower()
        if not email:
            return None
        if email not in self._agents:
            self._agents[email] = self.session.scalar(
                select(User.id)
                .join(Membership, Membership.user_id == User.id)
                .where(User.email == email, Membership.org_id == self.org_id)
            )
        return self._agents[email]

    def _named(self, model, cache: dict, name: str | None, **extra) -> int | None:
        name = (name or "").strip()[: model.__table__.c.name.type.length]
        if not name:
            return None
        if name not in cache:
            lookup = select(model.id).where(and_(model.org_id == self.org_id, model.name == name))
            found = self.session.scalar(lookup)
            if found is None and self.create:
                found = self._create(model, dict(name=name, **extra), lookup)
            cache[name] = found
        return cache[name]

    def cluster_id(self, name: str | None) -> int | None:
        return self._named(Cluster, self._clusters, name)

    def office_id(self, name: str | None, *, cluster: str | None = None) -> int | None:
        return self._named(Office, self._offices, name, cluster_id=self.cluster_id(cluster))

    def tag_ids(self, names: list[str]) -> list[int]:
        ids = [self._named(Tag, self._tags, str(n)[:100]) for n in names or [] if str(n).strip()]
        return [i for i in ids if i is not None]
