"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "case_reference_counter",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_case_reference_counter")),
    )
    op.create_table(
        "dialog_state",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quarantined", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_dialog_state")),
    )
    op.create_table(
        "directory_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("web", sa.String(length=500), nullable=True),
        sa.Column("hours", sa.String(length=200), nullable=True),
        sa.Column("for_whom", sa.String(length=300), nullable=False),
        sa.Column("synonyms", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_entry")),
        sa.UniqueConstraint("key", name=op.f("uq_directory_entry_key")),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("area", sa.String(length=64), nullable=True),
        sa.Column("quiet_from", sa.String(length=5), nullable=True),
        sa.Column("quiet_until", sa.String(length=5), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("email", name=op.f("uq_person_email")),
    )
    op.create_table(
        "processed_event",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "event_id", name=op.f("pk_processed_event")),
    )
    with op.batch_alter_table("processed_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processed_event_processed_at"), ["processed_at"], unique=False)

    op.create_table(
        "case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("submission_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("hate_crime", sa.Boolean(), nullable=False),
        sa.Column("hate_strand", sa.String(length=32), nullable=True),
        sa.Column("enhanced_rights", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=False),
        sa.Column("injury_level", sa.String(length=20), nullable=False),
        sa.Column("injury_detail", sa.Text(), nullable=True),
        sa.Column("medical_care", sa.String(length=32), nullable=True),
        sa.Column("hospitalised", sa.Boolean(), nullable=False),
        sa.Column("suspect_arrested", sa.String(length=10), nullable=False),
        sa.Column("crime_reference", sa.String(length=40), nullable=True),
        sa.Column("victim_id", sa.Integer(), nullable=False),
        sa.Column("victim_role", sa.String(length=20), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("io_id", sa.Integer(), nullable=True),
        sa.Column("consent_contact", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("review_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["io_id"], ["person.id"], name=op.f("fk_case_io_id_person")),
        sa.ForeignKeyConstraint(["reporter_id"], ["person.id"], name=op.f("fk_case_reporter_id_person")),
        sa.ForeignKeyConstraint(["victim_id"], ["person.id"], name=op.f("fk_case_victim_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case")),
        sa.UniqueConstraint("reference", name=op.f("uq_case_reference")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_case_submission_key")),
    )
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_area"), ["area"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_io_id"), ["io_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_reporter_id"), ["reporter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_victim_id"), ["victim_id"], unique=False)

    op.create_table(
        "channel_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("tenant", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_channel_identity_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_identity")),
        sa.UniqueConstraint(
            "channel", "tenant", "user_id", name=op.f("uq_channel_identity_channel_tenant_user_id")
        ),
    )
    with op.batch_alter_table("channel_identity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_channel_identity_person_id"), ["person_id"], unique=False)

    op.create_table(
        "person_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_role_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_role")),
        sa.UniqueConstraint("person_id", "role", "area", name=op.f("uq_person_role_person_id_role_area")),
    )
    with op.batch_alter_table("person_role", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_role_person_id"), ["person_id"], unique=False)

    op.create_table(
        "access_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("surface", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_access_audit_case_id_case")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_access_audit_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_audit")),
    )
    with op.batch_alter_table("access_audit", schema=None) as batch_op:
        batch_op.create_index("ix_access_audit_case_id_at", ["case_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_audit_person_id"), ["person_id"], unique=False)

    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["person.id"], name=op.f("fk_case_event_actor_id_person")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_event_case_id_case"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event")),
    )
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_event_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_witness",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_witness_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_case_witness_person_id_person")),
        sa.PrimaryKeyConstraint("case_id", "person_id", name=op.f("pk_case_witness")),
    )
    with op.batch_alter_table("case_witness", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_witness_person_id"), ["person_id"], unique=False)

    op.create_table(
        "plan_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("instance", sa.Integer(), nullable=False),
        sa.Column("owner_role", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("na_reason", sa.Text(), nullable=True),
        sa.Column("nudge_count", sa.Integer(), nullable=False),
        sa.Column("last_nudged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_nudge_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_plan_point_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["done_by_id"], ["person.id"], name=op.f("fk_plan_point_done_by_id_person")),
        sa.ForeignKeyConstraint(["owner_id"], ["person.id"], name=op.f("fk_plan_point_owner_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_point")),
        sa.UniqueConstraint("case_id", "code", "instance", name=op.f("uq_plan_point_case_id_code_instance")),
    )
    with op.batch_alter_table("plan_point", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_point_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_point_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index("ix_plan_point_status_next_nudge_at", ["status", "next_nudge_at"], unique=False)

    op.create_table(
        "welfare_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("how_they_are", sa.Text(), nullable=False),
        sa.Column("support_needed", sa.Text(), nullable=False),
        sa.Column("duties_handover", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_welfare_record_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["person.id"], name=op.f("fk_welfare_record_recorded_by_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_welfare_record")),
        sa.UniqueConstraint("case_id", name=op.f("uq_welfare_record_case_id")),
    )


def downgrade() -> None:

    op.drop_table("welfare_record")
    with op.batch_alter_table("plan_point", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_point_status_next_nudge_at")
        batch_op.drop_index(batch_op.f("ix_plan_point_owner_id"))
        batch_op.drop_index(batch_op.f("ix_plan_point_case_id"))

    op.drop_table("plan_point")
    with op.batch_alter_table("case_witness", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_witness_person_id"))

    op.drop_table("case_witness")
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_event_case_id"))

    op.drop_table("case_event")
    with op.batch_alter_table("access_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_audit_person_id"))
        batch_op.drop_index("ix_access_audit_case_id_at")

    op.drop_table("access_audit")
    with op.batch_alter_table("person_role", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_role_person_id"))

    op.drop_table("person_role")
    with op.batch_alter_table("channel_identity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_identity_person_id"))

    op.drop_table("channel_identity")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_victim_id"))
        batch_op.drop_index(batch_op.f("ix_case_reporter_id"))
        batch_op.drop_index(batch_op.f("ix_case_io_id"))
        batch_op.drop_index(batch_op.f("ix_case_area"))

    op.drop_table("case")
    with op.batch_alter_table("processed_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_event_processed_at"))

    op.drop_table("processed_event")
    op.drop_table("person")
    op.drop_table("directory_entry")
    op.drop_table("dialog_state")
    op.drop_table("case_reference_counter")
