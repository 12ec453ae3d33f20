"""sync runs cancelled by

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-16 09:00:00.000000

A cancelled run said only that it was cancelled; the run page and the source page now say
who asked. `cancelled_by_id` is the user who requested the cancel from the page or the API
(NULL for runs cancelled before this, and when that user is deleted: the run is kept).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sync_runs_cancelled_by_id_users"),
            "users",
            ["cancelled_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_sync_runs_cancelled_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("cancelled_by_id")
