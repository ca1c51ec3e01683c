"""nudge: index on (case_id, status), to withdraw a case's pending reminders when a point closes

Revision ID: 0004_nudge_case
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_nudge_case"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_nudge_case_id_status", "nudge", ["case_id", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_nudge_case_id_status", table_name="nudge")
