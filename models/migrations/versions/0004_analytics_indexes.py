"""analytics indexes for the overview page

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 06:00:00.000000

Chosen with EXPLAIN ANALYZE on 1M demo calls (see docs/performance.md, "Overview"):
- calls (org_id, started_at) and calls (org_id, phone_number_id, started_at) become
  covering indexes on PostgreSQL (INCLUDE the columns the overview aggregates), so an
  org's 90 days (or an agent's numbers') are read by an index-only scan however the rows
  are spread over the heap: 140 ms -> 11 ms for one org's 42k calls in a table whose rows
  arrived interleaved across orgs. SQLite keeps the plain indexes.
- calls (org_id, agent_id, started_at) serves the agent filter (15 ms -> 1 ms).
Not added: calls (org_id, status, started_at) (no statement filters calls by status),
cases (org_id, status) and tickets (org_id, created_at) (EXPLAIN: cases and tickets are
read per org through the existing (org_id, reported_at) and (org_id, status) indexes).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COVERED = ["status", "direction", "duration_seconds", "agent_id", "phone_number_id"]


def upgrade() -> None:
    op.drop_index("ix_calls_org_started", table_name="calls")
    op.drop_index("ix_calls_org_phone_started", table_name="calls")
    op.create_index(
        "ix_calls_org_started_cover",
        "calls",
        ["org_id", "started_at"],
        unique=False,
        postgresql_include=COVERED,
    )
    op.create_index(
        "ix_calls_org_phone_started_cover",
        "calls",
        ["org_id", "phone_number_id", "started_at"],
        unique=False,
        postgresql_include=[c for c in COVERED if c != "phone_number_id"],
    )
    op.create_index(
        "ix_calls_org_agent_started", "calls", ["org_id", "agent_id", "started_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_calls_org_agent_started", table_name="calls")
    op.drop_index("ix_calls_org_phone_started_cover", table_name="calls")
    op.drop_index("ix_calls_org_started_cover", table_name="calls")
    op.create_index(
        "ix_calls_org_phone_started",
        "calls",
        ["org_id", "phone_number_id", "started_at"],
        unique=False,
    )
    op.create_index("ix_calls_org_started", "calls", ["org_id", "started_at"], unique=False)
