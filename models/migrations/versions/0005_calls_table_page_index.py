"""calls table page index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 05:00:00.000000

The calls table pages through one org's calls newest first, ties broken by id, and sorts
or searches on any of its columns. 0004's (org_id, started_at) covering index held the
overview's columns but not `id`, `contact_id` or the from/to numbers, so counting a
filtered set and ordering a page read every matching row from the heap: 63-197 ms a page
(25 rows of 62,595, 1M calls whose rows are spread over the heap). Keyed on
(org_id, started_at, id) and INCLUDEing those columns too, the count and the page's ids
come from an index-only scan and only the 25 rows are read whole: 9-80 ms for every sort
and search (docs/performance.md, "Overview"). It replaces 0004's index, whose key it
starts with, so the overview's aggregates read it the same way. SQLite has no INCLUDE:
there it is the plain (org_id, started_at, id) index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OVERVIEW = ["status", "direction", "duration_seconds", "agent_id", "phone_number_id"]
TABLE = ["contact_id", "from_number", "to_number"]


def upgrade() -> None:
    op.create_index(
        "ix_calls_org_started_page",
        "calls",
        ["org_id", "started_at", "id"],
        unique=False,
        postgresql_include=OVERVIEW + TABLE,
    )
    op.drop_index("ix_calls_org_started_cover", table_name="calls")


def downgrade() -> None:
    op.create_index(
        "ix_calls_org_started_cover",
        "calls",
        ["org_id", "started_at"],
        unique=False,
        postgresql_include=OVERVIEW,
    )
    op.drop_index("ix_calls_org_started_page", table_name="calls")
