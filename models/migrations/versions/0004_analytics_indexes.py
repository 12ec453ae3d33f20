"""analytics indexes for the overview page

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 06:00:00.000000

Chosen with EXPLAIN ANALYZE on 1M demo calls (see docs/performance.md, "Overview"):
- calls (org_id, started_at) becomes a covering index on PostgreSQL (INCLUDE the columns the
  overview aggregates), so an org's 90 days are read by an index-only scan however the
  rows are spread over the heap: 140 ms -> 11 ms for one org's 42k calls in a table
  whose rows arrived interleaved across orgs. SQLite keeps the plain two-column index.
- calls (org_id, agent_id, started_at) serves the agent filter (15 ms -> 1 ms).
Indexes on calls (org_id, status, started_at), cases (org_id, status) and tickets
(org_id, created_at) were tried and not added: no overview query used them.
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
    op.create_index(
        "ix_calls_org_started_cover",
        "calls",
        ["org_id", "started_at"],
        unique=False,
        postgresql_include=COVERED,
    )
    op.create_index(
        "ix_calls_org_agent_started", "calls", ["org_id", "agent_id", "started_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_calls_org_agent_started", table_name="calls")
    op.drop_index("ix_calls_org_started_cover", table_name="calls")
    op.create_index("ix_calls_org_started", "calls", ["org_id", "started_at"], unique=False)
