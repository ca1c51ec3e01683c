"""reminder indexes: a case's pending reminders (to withdraw them when its points close), and a
person's latest case events (to update the reminders about the points they just answered)

Revision ID: 0004_reminders
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_reminders"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_nudge_case_id_status", "nudge", ["case_id", "status"], unique=False)
    op.create_index("ix_case_event_actor_id_at", "case_event", ["actor_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_case_event_actor_id_at", table_name="case_event")
    op.drop_index("ix_nudge_case_id_status", table_name="nudge")
