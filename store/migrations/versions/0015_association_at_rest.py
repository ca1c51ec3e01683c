"""trade-union membership at rest: `case.association` (special-category data) encrypted under the
data key, existing values encrypted here

Revision ID: 0015_assoc_at_rest
Revises: 0014_location_key
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.crypto import keyring_of
from store.data_key import EncryptedColumn, transform_column

revision: str = "0015_assoc_at_rest"
down_revision: str | None = "0014_location_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ASSOCIATION = EncryptedColumn("case", "association", ("id",))


def _swap_type(new_type: sa.types.TypeEngine[str], old_type: sa.types.TypeEngine[str]) -> None:
    """Give `case.association` another type in place, keeping its values."""
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("case", "association", type_=new_type, existing_type=old_type, existing_nullable=True)
        return
    # SQLite: `case` is never rebuilt (dropping it would cascade to every table that refers to it);
    # the column is replaced in place, as 0009_at_rest does for the crime reference.
    op.add_column("case", sa.Column("association_swap", new_type, nullable=True))
    op.execute('UPDATE "case" SET association_swap = association')
    op.execute('ALTER TABLE "case" DROP COLUMN association')
    op.execute('ALTER TABLE "case" RENAME COLUMN association_swap TO association')


def upgrade() -> None:
    # Refuses (one line) before changing anything when the engine has no data key.
    keyring = keyring_of(op.get_bind())
    _swap_type(sa.Text(), sa.String(32))
    transform_column(op.get_bind(), _ASSOCIATION, lambda text: keyring.encrypt(text.encode("utf-8")))


def downgrade() -> None:
    keyring = keyring_of(op.get_bind())
    transform_column(op.get_bind(), _ASSOCIATION, lambda token: keyring.decrypt(token).decode("utf-8"))
    _swap_type(sa.String(32), sa.Text())
