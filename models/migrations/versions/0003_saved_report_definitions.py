"""saved report definitions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:33:52.488425
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "report_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "definition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_report_definitions_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_report_definitions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_definitions")),
        sa.UniqueConstraint(
            "user_id", "org_id", "name", name=op.f("uq_report_definitions_user_id_org_id_name")
        ),
    )
    with op.batch_alter_table("report_definitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_definitions_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("report_definitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_definitions_user_id"))

    op.drop_table("report_definitions")
