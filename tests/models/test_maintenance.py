"""VACUUM ANALYZE after bulk loads (models/maintenance.py), checked in the database's own
statistics: PostgreSQL's pg_stat_user_tables and visibility map, SQLite's sqlite_stat1."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from models.base import utcnow
from models.maintenance import analyze_after_bulk_load, vacuum_analyze
from tests.models.test_calls import add_many_calls


def table_stats(engine, table: str) -> dict:
    """What the server knows about `table`: vacuum/analyze times, rows changed since, and
    how many heap pages the visibility map marks all-visible (what index-only scans read)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        row = conn.execute(
            text(
                "SELECT s.last_vacuum, s.last_analyze, s.n_mod_since_analyze, c.relallvisible "
                "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
                "WHERE s.relname = :t"
            ),
            {"t": table},
        ).one()
    return dict(row._mapping)


def test_vacuum_analyze_on_postgresql_sets_the_visibility_map(db, world):
    if db.backend != "postgresql":
        pytest.skip("PostgreSQL's statistics")
    add_many_calls(db, world.org_a, world.numbers["a1"], 5_000)
    before = utcnow() - timedelta(seconds=1)
    # A backend hands its row counts to the statistics within about a second of going idle.
    deadline = time.monotonic() + 5
    while table_stats(db.engine, "calls")["n_mod_since_analyze"] < 5_000:
        assert time.monotonic() < deadline, "the insert never reached pg_stat_user_tables"
        time.sleep(0.2)
    assert vacuum_analyze(db.engine, ["calls", "contacts", "calls"]) == ["calls", "contacts"]
    fresh = table_stats(db.engine, "calls")
    assert fresh["last_vacuum"] >= before and fresh["last_analyze"] >= before
    # a late statistics report of an earlier test's cleanup may still land: far below the load
    assert fresh["n_mod_since_analyze"] < 100
    assert fresh["relallvisible"] > 0


def test_vacuum_analyze_on_sqlite_refreshes_the_planner_statistics(db, world):
    if db.backend != "sqlite":
        pytest.skip("SQLite's statistics")
    add_many_calls(db, world.org_a, world.numbers["a1"], 2_000)
    assert vacuum_analyze(db.engine, ["calls"]) == ["calls"]
    with db.engine.connect() as conn:
        stats = conn.execute(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'calls'"))
        assert stats.scalar() > 0


def test_only_bulk_loads_are_vacuumed(db, world):
    assert analyze_after_bulk_load(db.engine, ["calls"], rows_written=10) == []
    assert analyze_after_bulk_load(db.engine, ["calls"], rows_written=10, threshold=5) == ["calls"]


def test_only_tables_of_the_schema_are_named(db):
    with pytest.raises(ValueError, match="not a table"):
        vacuum_analyze(db.engine, ["calls; DROP TABLE users"])
    with pytest.raises(ValueError, match="not a table"):
        analyze_after_bulk_load(db.engine, ["pg_class"], rows_written=10**9)
    assert vacuum_analyze(db.engine, []) == []


def test_a_sync_that_writes_a_bulk_load_analyzes_its_tables(db, world, monkeypatch):
    """A first sync can fill a table at once: the engine hands what it wrote to
    analyze_after_bulk_load (the threshold is lowered so a small demo sync counts)."""
    from tests.helpers import make_connection, run_sync

    monkeypatch.setattr("models.maintenance.BULK_ROWS", 20)
    if db.backend == "sqlite":
        with db.engine.begin() as c:
            c.execute(text("ANALYZE sqlite_schema"))  # makes sure sqlite_stat1 exists
            c.execute(text("DELETE FROM sqlite_stat1 WHERE tbl = 'contacts'"))
    conn = make_connection(db, world.org_a, "demo", settings={"records": 30, "delay_ms": 0})
    before = utcnow() - timedelta(seconds=1)
    run_sync(conn, "contacts")
    if db.backend == "sqlite":
        with db.engine.connect() as c:
            stats = c.execute(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'contacts'"))
            assert stats.scalar() > 0
    else:
        vacuumed = table_stats(db.engine, "contacts")["last_vacuum"]  # ANALYZE alone: per batch
        assert vacuumed is not None and vacuumed >= before
