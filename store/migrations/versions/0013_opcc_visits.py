"""OPCC visits (seed 004): visit requests, their pending steps (with a plan point's clocks) and
their timeline

Revision ID: 0013_visits
Revises: 0011_victim
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_visits"
down_revision: str | None = "0011_victim"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visit_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("submission_key", sa.String(length=200), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("visitee", sa.String(length=20), nullable=False),
        sa.Column("investigation", sa.String(length=10), nullable=False),
        sa.Column("nature", sa.Text(), nullable=False),
        sa.Column("capacity", sa.String(length=20), nullable=False),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("guidance", sa.String(length=20), nullable=True),
        sa.Column("guidance_text", sa.Text(), nullable=True),
        sa.Column("issues", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_as", sa.String(length=40), nullable=True),
        sa.Column("plan", sa.Text(), nullable=True),
        sa.Column("debrief_wanted", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("debrief", sa.Text(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("debriefed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["person.id"], name=op.f("fk_visit_request_decided_by_id_person")
        ),
        sa.ForeignKeyConstraint(["visitor_id"], ["person.id"], name=op.f("fk_visit_request_visitor_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_request")),
        sa.UniqueConstraint("reference", name=op.f("uq_visit_request_reference")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_visit_request_submission_key")),
    )
    op.create_index(op.f("ix_visit_request_visitor_id"), "visit_request", ["visitor_id"], unique=False)
    op.create_index(op.f("ix_visit_request_requested_at"), "visit_request", ["requested_at"], unique=False)
    op.create_table(
        "visit_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("owner_role", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("na_reason", sa.Text(), nullable=True),
        sa.Column("nudge_count", sa.Integer(), nullable=False),
        sa.Column("last_nudged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_nudge_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["done_by_id"], ["person.id"], name=op.f("fk_visit_step_done_by_id_person")),
        sa.ForeignKeyConstraint(["owner_id"], ["person.id"], name=op.f("fk_visit_step_owner_id_person")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["visit_request.id"],
            name=op.f("fk_visit_step_request_id_visit_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_step")),
        sa.UniqueConstraint("request_id", "code", name=op.f("uq_visit_step_request_id_code")),
    )
    op.create_index(op.f("ix_visit_step_request_id"), "visit_step", ["request_id"], unique=False)
    op.create_index(
        "ix_visit_step_status_next_nudge_at", "visit_step", ["status", "next_nudge_at"], unique=False
    )
    op.create_table(
        "visit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["person.id"], name=op.f("fk_visit_event_actor_id_person")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["visit_request.id"],
            name=op.f("fk_visit_event_request_id_visit_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_event")),
    )
    op.create_index(op.f("ix_visit_event_request_id"), "visit_event", ["request_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_visit_event_request_id"), table_name="visit_event")
    op.drop_table("visit_event")
    op.drop_index("ix_visit_step_status_next_nudge_at", table_name="visit_step")
    op.drop_index(op.f("ix_visit_step_request_id"), table_name="visit_step")
    op.drop_table("visit_step")
    op.drop_index(op.f("ix_visit_request_requested_at"), table_name="visit_request")
    op.drop_index(op.f("ix_visit_request_visitor_id"), table_name="visit_request")
    op.drop_table("visit_request")
