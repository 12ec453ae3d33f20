"""Housekeeping after bulk loads: VACUUM ANALYZE on PostgreSQL, ANALYZE on SQLite.

Why: a bulk load (the demo seed, a large import, a connector's first sync) writes millions of
rows that PostgreSQL knows nothing about until autovacuum gets to them. Until then

- the planner works from stale statistics (often "this table is empty") and picks plans
  for the wrong row counts, and
- index-only scans — which the overview's covering indexes exist for — have to visit the
  heap for every row, because the visibility map has no page marked all-visible yet. Only
  VACUUM sets those bits; ANALYZE alone does not.

Autovacuum fixes both eventually, but "eventually" is minutes to hours after a large load,
and some servers run with autovacuum off. Measured on 5M seeded calls: the overview refresh
took 2.2 s before VACUUM ANALYZE and 0.64 s after (docs/performance.md). So whatever fills
tables in bulk calls `vacuum_analyze` on what it filled, or `analyze_after_bulk_load`, which
does so only when enough rows were written to matter.

VACUUM cannot run inside a transaction block, so it runs on its own AUTOCOMMIT connection;
call it after the load's transaction has committed. SQLite has no VACUUM ANALYZE worth the
rewrite (its VACUUM copies the whole file); ANALYZE refreshes the planner's statistics
(sqlite_stat1), which is what matters there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from sqlalchemy import Engine, text

from models.base import Base

log = logging.getLogger("syncboard")

#: Below this many rows written, autovacuum's own thresholds are soon enough.
BULK_ROWS = 50_000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _known_tables(names: Iterable[str]) -> list[str]:
    """`names` that are tables of our schema, deduplicated, in order (never SQL from input)."""
    known = set(Base.metadata.tables)
    tables: list[str] = []
    for name in names:
        if name not in known or not _NAME.match(name):
            raise ValueError(f"{name!r} is not a table of the schema")
        if name not in tables:
            tables.append(name)
    return tables


def vacuum_analyze(engine: Engine, table_names: Iterable[str]) -> list[str]:
    """VACUUM ANALYZE these tables (PostgreSQL) or ANALYZE them (SQLite); the tables done.

    Run it after the bulk load committed: VACUUM needs a connection outside any transaction.
    """
    tables = _known_tables(table_names)
    if not tables:
        return []
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "postgresql":
            # One statement for all of them: PostgreSQL vacuums each in its own transaction.
            conn.execute(text("VACUUM (ANALYZE) " + ", ".join(tables)))
        else:
            for table in tables:
                conn.execute(text(f"ANALYZE {table}"))
    log.info("vacuum-analyzed %s", ", ".join(tables))
    return tables


def analyze_after_bulk_load(
    engine: Engine, table_names: Iterable[str], rows_written: int, *, threshold: int | None = None
) -> list[str]:
    """`vacuum_analyze` the tables a load filled when it wrote at least `threshold` rows.

    For a first sync or a large import: small, everyday syncs are left to autovacuum. Never
    raises for a database that refuses (a read-only replica, missing rights): the load has
    already succeeded, so a failure is logged and the tables are simply not done.
    """
    if rows_written < (BULK_ROWS if threshold is None else threshold):
        return []
    try:
        return vacuum_analyze(engine, table_names)
    except ValueError:
        raise
    except Exception:  # noqa: BLE001  (housekeeping must not fail the load)
        log.warning("could not vacuum-analyze %s after a bulk load", table_names, exc_info=True)
        return []
