"""reply outbox: a turn's replies, written in the turn's transaction and delivered exactly once

Revision ID: 0006_replies
Revises: 0005_perf
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_replies"
down_revision: str | None = "0005_perf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reply_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("platform_message_id", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_reply_outbox_dedupe_key")),
    )
    op.create_index(
        "ix_reply_outbox_channel_status_not_before",
        "reply_outbox",
        ["channel", "status", "not_before"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_reply_outbox_channel_status_not_before", table_name="reply_outbox")
    op.drop_table("reply_outbox")
