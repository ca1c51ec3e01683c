"""retention: the access audit's case id is no longer a foreign key, so that a closed case can be
deleted at the end of its retention period while the audit trail keeps every row about it

Revision ID: 0008_retention
Revises: 0007_budget
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008_retention"
down_revision: str | None = "0007_budget"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("access_audit", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_access_audit_case_id_case"), type_="foreignkey")


def downgrade() -> None:
    # Rows about deleted cases would break the constraint: they lose their case id, not the row.
    op.execute("UPDATE access_audit SET case_id = NULL WHERE case_id NOT IN (SELECT id FROM \"case\")")
    with op.batch_alter_table("access_audit", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_access_audit_case_id_case"), "case", ["case_id"], ["id"]
        )
