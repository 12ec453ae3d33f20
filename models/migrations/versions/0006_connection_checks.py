"""connection checks

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00.000000

Testing a connection that is not saved yet used to send its decrypted credentials through
Redis as RQ job arguments. The form's input now waits in `connection_checks`, credentials
encrypted like a connection's, and the job is given the row's id; it reads the row and
deletes it. Rows a job never took are purged after a few minutes (models/connection_checks.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connection_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("connector", sa.String(length=50), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("credentials_encrypted", sa.Text(), nullable=False),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_connection_checks_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection_checks")),
    )
    with op.batch_alter_table("connection_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connection_checks_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_connection_checks_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("connection_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connection_checks_org_id"))
        batch_op.drop_index(batch_op.f("ix_connection_checks_created_at"))

    op.drop_table("connection_checks")
