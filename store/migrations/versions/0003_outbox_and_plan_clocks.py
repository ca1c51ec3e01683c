"""outbox and plan clocks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "nudge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("due_slot", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("platform_message_id", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_nudge_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["point_id"], ["plan_point.id"], name=op.f("fk_nudge_point_id_plan_point"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["recipient_id"], ["person.id"], name=op.f("fk_nudge_recipient_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nudge")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_nudge_dedupe_key")),
    )
    with op.batch_alter_table("nudge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nudge_point_id"), ["point_id"], unique=False)
        batch_op.create_index("ix_nudge_recipient_id_status", ["recipient_id", "status"], unique=False)
        batch_op.create_index("ix_nudge_status_not_before", ["status", "not_before"], unique=False)

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("update_interval_days", sa.Integer(), nullable=True))

    with op.batch_alter_table("channel_identity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("plan_point", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_plan_point_status_due_at", ["status", "due_at"], unique=False)

    # Points opened before reminders were separate from the sweep's wake-up time.
    op.execute("UPDATE plan_point SET remind_at = next_nudge_at WHERE status = 'open'")


def downgrade() -> None:

    with op.batch_alter_table("plan_point", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_point_status_due_at")
        batch_op.drop_column("remind_at")

    with op.batch_alter_table("channel_identity", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("update_interval_days")

    with op.batch_alter_table("nudge", schema=None) as batch_op:
        batch_op.drop_index("ix_nudge_status_not_before")
        batch_op.drop_index("ix_nudge_recipient_id_status")
        batch_op.drop_index(batch_op.f("ix_nudge_point_id"))

    op.drop_table("nudge")
