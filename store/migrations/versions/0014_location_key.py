"""location key: the keyed hash of each case's normalised location, so that the patterns report
groups places in SQL while the location itself stays encrypted (existing rows hashed here, with the
key the engine carries); and each plan point carries its case's area and time, with an index
holding what the compliance report reads, so that report counts points without joining them to
their cases (existing points filled in here)

Revision ID: 0014_location_key
Revises: 0013_visits
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.crypto import keyring_of
from store.data_key import HashedColumn, rehash_column

revision: str = "0014_location_key"
down_revision: str | None = "0013_visits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The column this revision adds, as it was when it was written.
_LOCATION_KEY = HashedColumn("case", "location_key", "location", ("id",))
_COMPLIANCE_INDEX = ["code", "case_area", "case_occurred_at", "status", "due_at", "done_at", "escalated_at"]


def upgrade() -> None:
    # Refuses (one line) before changing anything when the engine has no data key.
    keyring_of(op.get_bind())
    # Nullable: SQLite cannot add a NOT NULL column to `case` without rebuilding it (and dropping
    # `case` would cascade to every table that refers to it); every insert writes it.
    op.add_column("case", sa.Column("location_key", sa.String(length=64), nullable=True))
    rehash_column(op.get_bind(), _LOCATION_KEY)
    op.create_index(op.f("ix_case_location_key"), "case", ["location_key"], unique=False)
    op.add_column("plan_point", sa.Column("case_area", sa.String(length=64), nullable=True))
    op.add_column("plan_point", sa.Column("case_occurred_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        'UPDATE plan_point SET case_area = (SELECT area FROM "case" WHERE "case".id = plan_point.case_id), '
        'case_occurred_at = (SELECT occurred_at FROM "case" WHERE "case".id = plan_point.case_id)'
    )
    op.create_index("ix_plan_point_compliance", "plan_point", _COMPLIANCE_INDEX, unique=False)


def downgrade() -> None:
    op.drop_index("ix_plan_point_compliance", table_name="plan_point")
    op.execute("ALTER TABLE plan_point DROP COLUMN case_occurred_at")
    op.execute("ALTER TABLE plan_point DROP COLUMN case_area")
    op.drop_index(op.f("ix_case_location_key"), table_name="case")
    op.execute('ALTER TABLE "case" DROP COLUMN location_key')
