"""victim disclosures: a colleague who tells the bot they were assaulted, the supervisor they asked
it to tell, the update interval they chose, and the case opened for them

Revision ID: 0011_victim
Revises: 0010_assoc
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0011_victim"
down_revision: str | None = "0010_assoc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "victim_disclosure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("victim_id", sa.Integer(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("update_interval_days", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_victim_disclosure_case_id_case"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"], ["person.id"], name=op.f("fk_victim_disclosure_supervisor_id_person")
        ),
        sa.ForeignKeyConstraint(["victim_id"], ["person.id"], name=op.f("fk_victim_disclosure_victim_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_victim_disclosure")),
    )
    op.create_index(op.f("ix_victim_disclosure_victim_id"), "victim_disclosure", ["victim_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_victim_disclosure_victim_id"), table_name="victim_disclosure")
    op.drop_table("victim_disclosure")
