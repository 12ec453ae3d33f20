"""records keyed by connection

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 09:00:00.000000

Synced rows were unique on (org_id, source, external_id), source being the connector key,
so two connections of one connector overwrote each other's rows (two CSV files whose ids
run 1..N replaced each other) and two of their syncs at once failed on that key. Each
synced table now has `connection_id` (the connection that keeps the row in sync; the
foreign key sets it NULL when the connection is deleted, and the row is kept) and
`origin_connection_id` (the connection that brought it, never cleared), and two keys:
(connection_id, external_id) for connector rows, and (org_id, source, external_id) only
for rows no connection brought (seeded, manual).

Existing rows are given to their connection when that can be told: a row a connector wrote
(it carries the vendor's record, `raw`: SQL NULL or JSON null for the others) whose organisation has exactly one connection of
that connector, and that was synced after the connection was created. Everything else
(the demo seeder's rows, rows of an organisation with two connections of one connector,
rows left by a deleted connection) keeps connection_id NULL and stays unique as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("contacts", "companies", "deals", "calls", "sms_messages", "cases", "tickets")
UNATTACHED = "origin_connection_id IS NULL"


def _backfill(table: str) -> None:
    """connection_id (and origin) from the org's only connection of the row's connector.

    min() only makes each subquery one value whatever order the database evaluates them in;
    where a row is updated there is exactly one such connection.
    """
    op.execute(
        f"""
        UPDATE {table}
        SET connection_id = (
            SELECT min(c.id) FROM connections c
            WHERE c.org_id = {table}.org_id AND c.connector = {table}.source
        )
        WHERE raw IS NOT NULL AND raw <> 'null'
          AND (
            SELECT count(*) FROM connections c
            WHERE c.org_id = {table}.org_id AND c.connector = {table}.source
          ) = 1
          AND synced_at >= (
            SELECT min(c.created_at) FROM connections c
            WHERE c.org_id = {table}.org_id AND c.connector = {table}.source
          )
        """
    )
    op.execute(f"UPDATE {table} SET origin_connection_id = connection_id")


def upgrade() -> None:
    # One table rebuild each on SQLite. Both keys hold before the backfill (every origin is
    # NULL, and rows were unique per source) and after it (a connection has one org and one
    # connector, so its rows were already unique on external_id).
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("connection_id", sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column("origin_connection_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_connection_id_connections"),
                "connections",
                ["connection_id"],
                ["id"],
                ondelete="SET NULL",
            )
            batch_op.drop_constraint(f"uq_{table}_source_key", type_="unique")
            batch_op.create_unique_constraint(
                f"uq_{table}_connection_key", ["connection_id", "external_id"]
            )
            batch_op.create_index(
                f"uq_{table}_unattached_key",
                ["org_id", "source", "external_id"],
                unique=True,
                sqlite_where=sa.text(UNATTACHED),
                postgresql_where=sa.text(UNATTACHED),
            )
        _backfill(table)


def downgrade() -> None:
    """Back to one key per source; refused while two connections hold the same external id."""
    bind = op.get_bind()
    for table in TABLES:
        clashes = bind.execute(
            sa.text(
                f"SELECT count(*) FROM (SELECT 1 FROM {table} "
                "GROUP BY org_id, source, external_id HAVING count(*) > 1) AS clash"
            )
        ).scalar()
        if clashes:
            raise RuntimeError(
                f"Cannot go below revision 0007: {clashes} external ids of {table} are held "
                "by more than one connection (or a connection and a deleted one). Delete the "
                "records of all but one of those connections first."
            )
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(
                f"uq_{table}_unattached_key",
                sqlite_where=sa.text(UNATTACHED),
                postgresql_where=sa.text(UNATTACHED),
            )
            batch_op.drop_constraint(f"uq_{table}_connection_key", type_="unique")
            batch_op.drop_constraint(
                batch_op.f(f"fk_{table}_connection_id_connections"), type_="foreignkey"
            )
            batch_op.drop_column("origin_connection_id")
            batch_op.drop_column("connection_id")
            batch_op.create_unique_constraint(
                f"uq_{table}_source_key", ["org_id", "source", "external_id"]
            )
