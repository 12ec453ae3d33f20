"""The migrations build exactly the schema the models declare, and step down and up again."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, insert, inspect, select, text

from models.base import Base
from models.migrate import alembic_config, is_current, upgrade
from tests.conftest import PG_ADMIN_URL, unavailable


def schema_drift(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_migrated_database_matches_the_models(db):
    assert is_current(db.engine)
    assert schema_drift(db.engine) == []


def test_calls_page_index_covers_the_table_columns(db):
    indexes = {ix["name"]: ix for ix in inspect(db.engine).get_indexes("calls")}
    page = indexes["ix_calls_org_started_page"]
    assert page["column_names"][:3] == ["org_id", "started_at", "id"]
    assert "ix_calls_org_started_cover" not in indexes
    if db.backend == "postgresql":
        included = set(page["dialect_options"]["postgresql_include"])
        assert {"contact_id", "from_number", "to_number", "agent_id"} <= included


def test_every_migration_steps_down_and_up_again(tmp_path):
    from alembic import command

    engine = create_engine(f"sqlite:///{tmp_path / 'steps.db'}")
    upgrade(engine)
    cfg = alembic_config(str(engine.url))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
        names = {ix["name"] for ix in inspect(conn).get_indexes("calls")}
        assert "ix_calls_org_started_cover" in names and "ix_calls_org_started_page" not in names
        command.downgrade(cfg, "base")
        assert "calls" not in inspect(conn).get_table_names()
    upgrade(engine)
    assert is_current(engine)
    assert schema_drift(engine) == []
    engine.dispose()


# --- 0007: records keyed by connection ----------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_engine(request, tmp_path):
    """An empty database of its own (the migration under test must start below head)."""
    if request.param == "sqlite":
        from models.db import make_engine

        engine = make_engine(f"sqlite:///{tmp_path / 'blank.db'}")  # foreign keys on, as the app
        yield engine
        engine.dispose()
        return
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001
        unavailable("PostgreSQL", str(exc).strip().splitlines()[0])
    name = f"syncboard_blank_{os.getpid()}_{secrets.token_hex(3)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].split("://", 1)[1]
    engine = create_engine(f"postgresql+psycopg://{base}/{name}")
    yield engine
    engine.dispose()
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _migrate(engine, revision: str, *, down: bool = False) -> None:
    from alembic import command

    cfg = alembic_config(str(engine.url))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_0007_gives_existing_records_to_their_connection_when_unambiguous(blank_engine):
    """Only a connector's rows, synced after the org's one connection of it was made, move."""
    from models.orgs import Organization
    from models.records import Call, Case, CaseStatusChange, Contact, Tag, case_tags
    from models.sync import Connection

    engine = blank_engine
    _migrate(engine, "0006")
    t0 = datetime(2026, 1, 10, tzinfo=UTC)
    before, after = t0 - timedelta(days=2), t0 + timedelta(hours=1)
    orgs, conns, calls, contacts = (t.__table__ for t in (Organization, Connection, Call, Contact))

    def connection(org: int, connector: str, name: str) -> int:
        values = dict(org_id=org, connector=connector, name=name, created_at=t0)
        return conn.execute(insert(conns).values(**values).returning(conns.c.id)).scalar()

    def contact(org: int, source: str, ext: str, synced, raw) -> None:
        conn.execute(
            insert(contacts).values(
                org_id=org, source=source, external_id=ext, synced_at=synced, raw=raw
            )
        )

    def call(org: int, source: str, ext: str, synced, **raw) -> None:
        conn.execute(
            insert(calls).values(
                org_id=org,
                source=source,
                external_id=ext,
                synced_at=synced,
                direction="inbound",
                status="answered",
                started_at=before,
                **raw,
            )
        )

    with engine.begin() as conn:
        a = conn.execute(insert(orgs).values(name="A", slug="a").returning(orgs.c.id)).scalar()
        b = conn.execute(insert(orgs).values(name="B", slug="b").returning(orgs.c.id)).scalar()
        hub = connection(a, "hubspot", "Sales")
        demo = connection(a, "demo", "Demo")
        connection(a, "csv", "File 1")
        connection(a, "csv", "File 2")
        contact(a, "hubspot", "h1", after, {"id": "h1"})  # -> Sales
        contact(a, "hubspot", "h0", before, {"id": "h0"})  # synced before Sales existed
        contact(a, "hubspot", "h2", after, None)  # JSON null, no vendor record: not a connector's
        contact(b, "hubspot", "h1", after, {"id": "h1"})  # B has no HubSpot connection
        call(a, "demo", "demo-call-1", after, raw={"id": "demo-call-1"})  # -> Demo
        call(a, "demo", "call-0000001", after)  # the seeder's: no raw at all (SQL NULL)
        call(a, "csv", "1", after, raw={"id": "1"})  # two CSV connections: cannot tell
        # Links into rebuilt tables survive (SQLite rebuilds them; foreign keys must be off).
        first = conn.execute(select(func.min(contacts.c.id))).scalar()
        conn.execute(calls.update().where(calls.c.external_id == "1").values(contact_id=first))
        case = conn.execute(
            insert(Case.__table__)
            .values(org_id=a, title="Pothole", external_id="r1", reported_at=before)
            .returning(Case.__table__.c.id)
        ).scalar()
        tag = conn.execute(
            insert(Tag.__table__).values(org_id=a, name="roads").returning(Tag.__table__.c.id)
        ).scalar()
        conn.execute(insert(case_tags).values(case_id=case, tag_id=tag))
        conn.execute(
            insert(CaseStatusChange.__table__).values(
                case_id=case, to_status="new", changed_at=before
            )
        )
    upgrade(engine)

    with engine.connect() as conn:
        keys = select(
            contacts.c.org_id,
            contacts.c.external_id,
            contacts.c.connection_id,
            contacts.c.origin_connection_id,
        )
        got = {(o, e): (c, origin) for o, e, c, origin in conn.execute(keys)}
        assert got == {
            (a, "h1"): (hub, hub),
            (a, "h0"): (None, None),
            (a, "h2"): (None, None),
            (b, "h1"): (None, None),
        }
        rows = conn.execute(select(calls.c.external_id, calls.c.connection_id)).all()
        assert dict(rows) == {"demo-call-1": demo, "call-0000001": None, "1": None}
        linked = select(calls.c.contact_id).where(calls.c.external_id == "1")
        assert conn.execute(linked).scalar() == first
        assert conn.execute(select(func.count()).select_from(case_tags)).scalar() == 1
        history = select(func.count()).select_from(CaseStatusChange.__table__)
        assert conn.execute(history).scalar() == 1

    # Down again keeps the rows; refused once two connections hold one external id.
    _migrate(engine, "0006", down=True)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(contacts)).scalar() == 4
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(calls).values(
                org_id=a,
                source="csv",
                external_id="1",
                connection_id=hub,
                origin_connection_id=hub,
                direction="inbound",
                status="answered",
                started_at=before,
            )
        )
    with pytest.raises(RuntimeError, match="held by more than one connection"):
        _migrate(engine, "0006", down=True)


# --- 0008: who cancelled a run ---------------------------------------------------------------


def test_0008_records_who_cancelled_and_keeps_the_run_when_they_go(blank_engine):
    """The column arrives empty on existing runs, keeps the one-active-run index (SQLite
    rebuilds the table), is cleared when its user is deleted, and goes away on downgrade."""
    from models.orgs import Organization, User
    from models.sync import Connection, SyncRun

    engine = blank_engine
    _migrate(engine, "0007")
    orgs, users, conns, runs = (t.__table__ for t in (Organization, User, Connection, SyncRun))
    t0 = datetime(2026, 1, 10, tzinfo=UTC)

    def run(conn, connection: int, status: str, **values) -> int:
        row = dict(
            org_id=org,
            connection_id=connection,
            lock_key="*",
            trigger="user",
            options={},
            status=status,
            created_at=t0,
            cancel_requested=False,
            processed=0,
            created=0,
            updated=0,
            unchanged=0,
            failed=0,
            error_samples=[],
            stats={},
            **values,
        )
        return conn.execute(insert(runs).values(**row).returning(runs.c.id)).scalar()

    with engine.begin() as conn:
        org = conn.execute(insert(orgs).values(name="A", slug="a").returning(orgs.c.id)).scalar()
        source = conn.execute(
            insert(conns)
            .values(org_id=org, connector="demo", name="Demo", created_at=t0)
            .returning(conns.c.id)
        ).scalar()
        old = run(conn, source, "cancelled")
    upgrade(engine)
    assert is_current(engine) and schema_drift(engine) == []
    columns = {c["name"]: c for c in inspect(engine).get_columns("sync_runs")}
    assert columns["cancelled_by_id"]["nullable"]
    indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("sync_runs")}
    assert indexes["uq_sync_runs_active"]["unique"]
    with engine.begin() as conn:
        assert conn.execute(select(runs.c.cancelled_by_id).where(runs.c.id == old)).scalar() is None
        ada = conn.execute(
            insert(users)
            .values(email="ada@example.com", name="Ada", password_hash="x")
            .returning(users.c.id)
        ).scalar()
        mine = run(conn, source, "cancelled", cancelled_by_id=ada)
        # still at most one active run per connection and stream
        run(conn, source, "queued")
    with pytest.raises(Exception), engine.begin() as conn:  # noqa: B017 (IntegrityError per driver)
        run(conn, source, "running")
    with engine.begin() as conn:
        conn.execute(users.delete().where(users.c.id == ada))
        assert (
            conn.execute(select(runs.c.cancelled_by_id).where(runs.c.id == mine)).scalar() is None
        )
    _migrate(engine, "0007", down=True)
    assert "cancelled_by_id" not in {c["name"] for c in inspect(engine).get_columns("sync_runs")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sync_runs")).scalar() == 3
