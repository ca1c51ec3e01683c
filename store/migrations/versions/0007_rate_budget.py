"""rate budget and urgent reminders: the platforms' rate limits counted in the database, so that
several instances on PostgreSQL share one budget instead of each spending all of it; and an urgent
flag on outbox rows, so that delivery claims urgent messages before older routine ones

Revision ID: 0007_budget
Revises: 0006_replies
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_budget"
down_revision: str | None = "0006_replies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_window",
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("head", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rate_window")),
    )
    op.create_table(
        "rate_slot",
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"], ["rate_window.name"], name=op.f("fk_rate_slot_name_rate_window"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("name", "slot", name=op.f("pk_rate_slot")),
    )
    with op.batch_alter_table("nudge") as batch:
        batch.add_column(sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("nudge") as batch:
        batch.drop_column("urgent")
    op.drop_table("rate_slot")
    op.drop_table("rate_window")
