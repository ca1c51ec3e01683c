"""points 9 and 10: the victim's staff association and their consent to it being told

`case.association` is the association the victim's role points to (or the one the reporter
picked; "none" when they belong to none; NULL when not known), and `case.consent_association`
whether the victim agreed to the bot telling it. Existing cases are unknown and without consent,
so their supervisors keep the reminder they had.

Revision ID: 0010_assoc
Revises: 0009_at_rest
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_assoc"
down_revision: str | None = "0009_at_rest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Columns are added and dropped in place, never by rebuilding `case`: on SQLite a rebuild drops the
# table, and dropping it deletes every row that refers to a case (welfare records, points, events).
def upgrade() -> None:
    op.add_column("case", sa.Column("association", sa.String(length=32), nullable=True))
    op.add_column("case", sa.Column("consent_association", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.execute('ALTER TABLE "case" DROP COLUMN consent_association')
    op.execute('ALTER TABLE "case" DROP COLUMN association')
