"""promises kept at rest: case detail, welfare records, dialog state and the inbox encrypted under
the data key (existing rows encrypted here, with the key the engine carries); a row that proves
the key; audit rows with a purpose and a hash chain (existing rows chained here, oldest first)

Revision ID: 0009_at_rest
Revises: 0005_perf
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.audit import GENESIS, AuditEntry, chain_hash
from store.crypto import keyring_of
from store.data_key import CHECK_VALUE, EncryptedColumn, transform_column
from store.models import UTCDateTime

revision: str = "0009_at_rest"
down_revision: str | None = "0005_perf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The columns this revision encrypts, as they were when it was written.
_ENCRYPTED = [
    EncryptedColumn("case", "location", ("id",)),
    EncryptedColumn("case", "injury_detail", ("id",)),
    EncryptedColumn("case", "crime_reference", ("id",)),
    EncryptedColumn("plan_point", "na_reason", ("id",)),
    EncryptedColumn("welfare_record", "how_they_are", ("id",)),
    EncryptedColumn("welfare_record", "support_needed", ("id",)),
    EncryptedColumn("welfare_record", "duties_handover", ("id",)),
    EncryptedColumn("dialog_state", "state", ("key",)),
    EncryptedColumn("dialog_state", "quarantined", ("key",)),
    EncryptedColumn("inbox_item", "payload", ("id",)),
]
#: The purpose of the audit rows written before rows had one, from what was done.
_PURPOSE_OF_ACTION = {
    "create": "case_report",
    "view": "case_view",
    "list": "case_view",
    "update": "case_update",
    "denied": "probe",
    "refused": "probe",
}


def _widen_to_text() -> None:
    """Ciphertext is longer than the values: the two columns that were not TEXT become TEXT."""
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("case", "crime_reference", type_=sa.Text(), existing_type=sa.String(40))
        op.alter_column(
            "inbox_item", "payload", type_=sa.Text(), existing_type=sa.JSON(), postgresql_using="payload::text"
        )
        return
    # SQLite: `case` is not rebuilt (dropping it would cascade to every table that refers to it);
    # its column is replaced in place. Nothing refers to the inbox, so it is rebuilt as usual.
    op.add_column("case", sa.Column("crime_reference_text", sa.Text(), nullable=True))
    op.execute('UPDATE "case" SET crime_reference_text = crime_reference')
    op.execute('ALTER TABLE "case" DROP COLUMN crime_reference')
    op.execute('ALTER TABLE "case" RENAME COLUMN crime_reference_text TO crime_reference')
    with op.batch_alter_table("inbox_item") as batch:
        batch.alter_column("payload", type_=sa.Text(), existing_type=sa.JSON(), existing_nullable=False)


def _chain_audit() -> None:
    with op.batch_alter_table("access_audit") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("purpose", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))
    audit = sa.table(
        "access_audit",
        sa.column("id", sa.Integer()),
        sa.column("at", UTCDateTime()),
        sa.column("person_id", sa.Integer()),
        sa.column("case_id", sa.Integer()),
        sa.column("surface", sa.String()),
        sa.column("action", sa.String()),
        sa.column("detail", sa.String()),
        sa.column("seq", sa.Integer()),
        sa.column("purpose", sa.String()),
        sa.column("chain_hash", sa.String()),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(audit).order_by(audit.c.id)).all()
    previous, updates = GENESIS, []
    for seq, row in enumerate(rows, start=1):
        entry = AuditEntry(
            at=row.at,
            person_id=row.person_id,
            case_id=row.case_id,
            surface=row.surface,
            action=row.action,
            purpose=_PURPOSE_OF_ACTION.get(row.action, "case_view"),
            detail=row.detail,
        )
        previous = chain_hash(previous, seq, entry)
        updates.append({"row_id": row.id, "seq": seq, "purpose": entry.purpose, "chain_hash": previous})
    if updates:
        connection.execute(
            audit.update()
            .where(audit.c.id == sa.bindparam("row_id"))
            .values(seq=sa.bindparam("seq"), purpose=sa.bindparam("purpose"), chain_hash=sa.bindparam("chain_hash")),
            updates,
        )
    with op.batch_alter_table("access_audit") as batch:
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("purpose", existing_type=sa.String(length=30), nullable=False)
        batch.alter_column("chain_hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(batch.f("uq_access_audit_seq"), ["seq"])


def upgrade() -> None:
    # Refuses (one line) before changing anything when the engine has no data key.
    keyring = keyring_of(op.get_bind())
    _widen_to_text()
    check = op.create_table(
        "data_key_check",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_key_check")),
    )
    for target in _ENCRYPTED:
        transform_column(op.get_bind(), target, lambda text: keyring.encrypt(text.encode("utf-8")))
    op.bulk_insert(check, [{"id": 1, "token": keyring.encrypt(CHECK_VALUE.encode("utf-8"))}])
    _chain_audit()


def downgrade() -> None:
    keyring = keyring_of(op.get_bind())
    for target in _ENCRYPTED:
        transform_column(op.get_bind(), target, lambda token: keyring.decrypt(token).decode("utf-8"))
    op.drop_table("data_key_check")
    with op.batch_alter_table("access_audit") as batch:
        batch.drop_constraint(batch.f("uq_access_audit_seq"), type_="unique")
        batch.drop_column("chain_hash")
        batch.drop_column("purpose")
        batch.drop_column("seq")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "inbox_item", "payload", type_=sa.JSON(), existing_type=sa.Text(), postgresql_using="payload::json"
        )
        op.alter_column("case", "crime_reference", type_=sa.String(40), existing_type=sa.Text())
        return
    with op.batch_alter_table("inbox_item") as batch:
        batch.alter_column("payload", type_=sa.JSON(), existing_type=sa.Text(), existing_nullable=False)
