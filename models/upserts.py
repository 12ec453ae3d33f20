"""Batch upserts of synced records into the tables the sync engine may write.

Writes are idempotent upserts keyed on the connection, (connection_id, external_id), so
two connections of one connector never touch each other's rows; a batch is one
transaction, counted honestly, and an older version never replaces a newer one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, any_, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import array as pg_array
from sqlalchemy.orm import Session

from models.base import utcnow
from models.orgs import PhoneNumber
from models.records import (
    Call,
    Case,
    CaseStatusChange,
    Company,
    Contact,
    Deal,
    Sms,
    Ticket,
    case_tags,
)


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


@dataclass(frozen=True)
class _Batch:
    """What one call writes where: the table, whose rows, and how."""

    table: str
    target: Target
    org_id: int
    source: str
    connection_id: int | None
    force: bool
    now: datetime

    @property
    def model(self) -> type[Any]:
        return self.target.model

    def has(self, column: str) -> bool:
        return column in self.target.model.__table__.c


@dataclass
class _Plan:
    """The writes a batch needs, worked out before any is made (a dry run stops there)."""

    inserts: list[tuple[dict[str, Any], list[int] | None]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    tag_sets: dict[int, list[int]] = field(default_factory=dict)
    status_changes: list[tuple[int, str | None, str, datetime]] = field(default_factory=list)


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
    result = UpsertResult()
    newest = _newest_per_key(target, rows, result)
    if not newest:
        return result
    batch = _Batch(table, target, org_id, source, connection_id, force, utcnow())
    cols = sorted({c for row in newest.values() for c in row} - {"tag_ids"})
    postgres = session.get_bind().dialect.name == "postgresql"
    existing = _existing_rows(session, batch, cols, list(newest), postgres=postgres)
    plan = _plan(batch, cols, newest, existing, result)
    result.created += len(plan.inserts)
    result.updated += len(plan.updates)
    if not dry_run:
        _write(session, batch, plan, postgres=postgres)
    return result


def _newest_per_key(
    target: Target, rows: list[dict[str, Any]], result: UpsertResult
) -> dict[str, dict[str, Any]]:
    """One row per key, the newest version when a batch repeats a key (repeats count as stale)."""
    newest: dict[str, dict[str, Any]] = {}
    version = target.version
    for row in rows:
        k = str(row[target.key])
        kept = newest.get(k)
        if kept is not None:
            result.stale += 1
            if version and row.get(version) and kept.get(version) and row[version] < kept[version]:
                continue
        newest[k] = row
    return newest


def _existing_rows(
    session: Session, batch: _Batch, cols: list[str], keys: list[str], *, postgres: bool
) -> dict[str, dict[str, Any]]:
    """{key: the stored row's id and `cols`} of the keys we already hold, in chunks of 900."""
    model = batch.model
    key_col = getattr(model, batch.target.key)
    scope = _key_scope(model, batch.target, batch.org_id, batch.source, batch.connection_id)
    existing: dict[str, dict[str, Any]] = {}
    for chunk in range(0, len(keys), 900):
        part = keys[chunk : chunk + 900]
        # One array parameter on PostgreSQL instead of 900 scalars: one short, cacheable statement.
        match = key_col == any_(pg_array(part, type_=String)) if postgres else key_col.in_(part)
        stmt = select(model.id, *(getattr(model, c) for c in cols)).where(*scope, match)
        for record in session.execute(stmt).mappings():
            existing[str(record[batch.target.key])] = dict(record)
    return existing


def _plan(
    batch: _Batch,
    cols: list[str],
    newest: dict[str, dict[str, Any]],
    existing: dict[str, dict[str, Any]],
    result: UpsertResult,
) -> _Plan:
    """Sort each row into an insert, an update, or a count (stale, unchanged)."""
    plan = _Plan()
    for k, row in newest.items():
        values = {c: row[c] for c in cols if c in row}
        old = existing.get(k)
        if old is None:
            plan.inserts.append((_new_values(batch, values), row.get("tag_ids")))
        else:
            _plan_update(batch, plan, row, values, old, result)
    return plan


def _new_values(batch: _Batch, values: dict[str, Any]) -> dict[str, Any]:
    """A new row's columns with its owner: organisation, source, connection, sync time."""
    values.update(org_id=batch.org_id)
    if batch.has("source"):
        values["source"] = batch.source
    if batch.has("connection_id"):
        values["connection_id"] = values["origin_connection_id"] = batch.connection_id
    if batch.has("synced_at"):
        values["synced_at"] = batch.now
    return values


def _plan_update(
    batch: _Batch,
    plan: _Plan,
    row: dict[str, Any],
    values: dict[str, Any],
    old: dict[str, Any],
    result: UpsertResult,
) -> None:
    """Plan the update of a row we hold, unless ours is newer or nothing changed (and no force)."""
    version = batch.target.version
    if version and not batch.force:
        old_v, new_v = old.get(version), values.get(version)
        if old_v is not None and new_v is not None and new_v < old_v:
            result.stale += 1
            return
    changed = any(not _same(old.get(c), v) for c, v in values.items() if c not in SKIP_COMPARE)
    if not changed and not batch.force:
        result.unchanged += 1
        return
    values["id"] = old["id"]
    if batch.has("synced_at"):
        values["synced_at"] = batch.now
    plan.updates.append(values)
    if "tag_ids" in row:
        plan.tag_sets[old["id"]] = row["tag_ids"]
    if batch.table == "cases" and "status" in values and values["status"] != old.get("status"):
        when = values.get("updated_at") or batch.now
        plan.status_changes.append((old["id"], old.get("status"), values["status"], when))


def _write(session: Session, batch: _Batch, plan: _Plan, *, postgres: bool) -> None:
    """Make the planned writes: inserts first (new cases' tags and history need their ids)."""
    if plan.inserts:
        _insert(session, batch, plan, postgres=postgres)
    if plan.updates:
        session.execute(update(batch.model), plan.updates)
    if plan.tag_sets:
        _replace_case_tags(session, plan.tag_sets)
    if plan.status_changes:
        _record_status_changes(session, plan.status_changes)


def _insert(session: Session, batch: _Batch, plan: _Plan, *, postgres: bool) -> None:
    """Insert the new rows (COPY on PostgreSQL, except cases, whose new ids we need)."""
    model = batch.model
    rows = [values for values, _ in plan.inserts]
    if postgres and batch.table != "cases":
        copy_rows(session, model.__table__, rows)
        return
    ids = session.scalars(insert(model).returning(model.id), rows).all()
    if batch.table != "cases":
        return
    for new_id, (values, tags) in zip(ids, plan.inserts, strict=True):
        if tags:
            plan.tag_sets[new_id] = tags
        when = values.get("reported_at") or batch.now
        plan.status_changes.append((new_id, None, values.get("status", "new"), when))


def _replace_case_tags(session: Session, tag_sets: dict[int, list[int]]) -> None:
    """Each case's tags become exactly the ones given."""
    session.execute(delete(case_tags).where(case_tags.c.case_id.in_(list(tag_sets))))
    pairs = [
        {"case_id": cid, "tag_id": tid} for cid, tags in tag_sets.items() for tid in set(tags or [])
    ]
    if pairs:
        session.execute(insert(case_tags), pairs)


def _record_status_changes(
    session: Session, changes: list[tuple[int, str | None, str, datetime]]
) -> None:
    """A status history row for each case whose status the sync set or changed."""
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
            for cid, old, new, when in changes
        ],
    )


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
