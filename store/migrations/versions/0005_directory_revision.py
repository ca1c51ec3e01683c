"""directory revision and digest index: a token that changes with every directory write, so that
search can keep an in-memory index and check it is current with one primary-key read; and plan
points by status, case and due time, so the daily digest reads its first overdue points in case
order instead of sorting every overdue point

Revision ID: 0005_perf
Revises: 0004_reminders
Create Date: 2026-11-27
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_perf"
down_revision: str | None = "0004_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "directory_revision",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_revision")),
    )
    op.bulk_insert(table, [{"id": 1, "token": uuid.uuid4().hex}])
    op.create_index(
        "ix_plan_point_status_case_id_due_at", "plan_point", ["status", "case_id", "due_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_plan_point_status_case_id_due_at", table_name="plan_point")
    op.drop_table("directory_revision")
