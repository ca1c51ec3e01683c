"""The data key and the database: a start-up check that the key opens the data, and re-encryption.

The `data_key_check` table holds one known value encrypted under the key. Start-up decrypts it: a
database whose data the configured key cannot open is refused before anything is read or written
(`check_data_key`). Rotation re-encrypts every value of every `Encrypted`/`EncryptedJSON` column
under the newest key of the engine's keyring (`reencrypt`), batch by batch; since the keyring still
reads the older keys, a rotation that stops half way loses nothing and can simply be run again.
It also recomputes every keyed hash (`rehash`), which the newest key derives: until then, a report
grouping by one may count a place twice (once per key), never lose a case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, bindparam, column, select, table, tuple_, update
from sqlalchemy.sql.expression import ColumnClause

from store.crypto import (
    KEYED_HASH_OF,
    DataKeyError,
    Encrypted,
    EncryptedJSON,
    Keyring,
    attach_keyring,
    keyring_of,
    new_key,
    write_key_file,
)
from store.models import Base

__all__ = [
    "CHECK_VALUE",
    "DataKeyError",
    "EncryptedColumn",
    "HashedColumn",
    "check_data_key",
    "encrypted_columns",
    "hashed_columns",
    "reencrypt",
    "rehash",
    "rehash_column",
    "rotate_key",
    "transform_column",
]

#: The value the check row holds, encrypted.
CHECK_VALUE = "op-hampshire data key check"
_CHECK_TABLE = "data_key_check"
#: What a rewrite does to one stored value (encrypt it, or re-encrypt it under the newest key).
Change = Callable[[str], str]
#: A batch of stored values as read: (primary key, raw text), in primary-key order.
Rows = list[tuple[tuple[Any, ...], str]]
Target = TypeVar("Target")


@dataclass(frozen=True)
class EncryptedColumn:
    """A column whose values are encrypted, and its table's primary key."""

    table: str
    column: str
    key: tuple[str, ...]


@dataclass(frozen=True)
class HashedColumn:
    """A column holding the keyed hash of an encrypted column (`source`), and its table's primary key."""

    table: str
    column: str
    source: str
    key: tuple[str, ...]

    @property
    def encrypted(self) -> EncryptedColumn:
        """The column whose values are hashed."""
        return EncryptedColumn(self.table, self.source, self.key)


def hashed_columns() -> list[HashedColumn]:
    """Every keyed-hash column of the models, found by its `keyed_hash_of` mark."""
    found = []
    for model_table in Base.metadata.sorted_tables:
        key = tuple(c.name for c in model_table.primary_key.columns)
        for model_column in model_table.columns:
            if source := model_column.info.get(KEYED_HASH_OF):
                found.append(HashedColumn(model_table.name, model_column.name, source, key))
    return found


def encrypted_columns() -> list[EncryptedColumn]:
    """Every encrypted column of the models, found by type (a new one is rotated without more code)."""
    found = []
    for model_table in Base.metadata.sorted_tables:
        key = tuple(c.name for c in model_table.primary_key.columns)
        for model_column in model_table.columns:
            if isinstance(model_column.type, Encrypted | EncryptedJSON):
                found.append(EncryptedColumn(model_table.name, model_column.name, key))
    return found


def _page(
    connection: Connection, target: EncryptedColumn, after: tuple[Any, ...] | None, batch: int
) -> list[tuple[tuple[Any, ...], str]]:
    """Up to `batch` non-null stored values of a column after primary key `after`, as (key, raw text)."""
    keys: list[ColumnClause[Any]] = [column(name) for name in target.key]
    value: ColumnClause[Any] = column(target.column)
    query = select(*keys, value).select_from(table(target.table, *keys, value)).where(value.is_not(None))
    if after is not None:
        query = query.where(tuple_(*keys) > tuple_(*after))
    rows = connection.execute(query.order_by(*keys).limit(batch))
    return [(tuple(row[:-1]), str(row[-1])) for row in rows]


def _rewrite(
    connection: Connection, target: EncryptedColumn, rows: list[tuple[tuple[Any, ...], str]], change: Change
) -> None:
    """Replace each row's value with `change` of it, where the row still holds what was read."""
    keys: list[ColumnClause[Any]] = [column(name) for name in target.key]
    value: ColumnClause[Any] = column(target.column)
    statement = (
        update(table(target.table, *keys, value))
        .where(*[k == bindparam(f"k_{k.name}") for k in keys], value == bindparam("old_value"))
        .values({target.column: bindparam("new_value")})
    )
    parameters = [
        {"old_value": text, "new_value": change(text)}
        | {f"k_{k.name}": part for k, part in zip(keys, pk, strict=True)}
        for pk, text in rows
    ]
    connection.execute(statement, parameters)


def _rehash_page(
    connection: Connection, target: HashedColumn, keyring: Keyring, after: tuple[Any, ...] | None, batch: int
) -> list[tuple[tuple[Any, ...], str]]:
    """Recompute the hashes of up to `batch` rows after primary key `after`; the rows read."""
    rows = _page(connection, target.encrypted, after, batch)
    if not rows:
        return rows
    keys: list[ColumnClause[Any]] = [column(name) for name in target.key]
    source: ColumnClause[Any] = column(target.source)
    statement = (
        update(table(target.table, *keys, source, column(target.column)))
        .where(*[k == bindparam(f"k_{k.name}") for k in keys], source == bindparam("token"))
        .values({target.column: bindparam("hash")})
    )
    connection.execute(
        statement,
        [
            {"token": token, "hash": keyring.keyed_hash(keyring.decrypt(token).decode("utf-8"))}
            | {f"k_{k.name}": part for k, part in zip(keys, pk, strict=True)}
            for pk, token in rows
        ],
    )
    return rows


def rehash_column(connection: Connection, target: HashedColumn, *, batch: int = 500) -> int:
    """Recompute every keyed hash of a column under the newest key, in `connection`'s transaction
    (for migrations); how many."""
    keyring = keyring_of(connection)
    count, after = 0, None
    while rows := _rehash_page(connection, target, keyring, after, batch):
        count, after = count + len(rows), rows[-1][0]
    return count


def rehash(engine: Engine, *, batch: int = 500) -> int:
    """Recompute every keyed hash under the newest key of the engine's keyring, a batch per
    transaction; how many. A row whose value changed since it was read keeps the hash its writer gave it."""
    keyring = keyring_of(engine)

    def step(connection: Connection, target: HashedColumn, after: tuple[Any, ...] | None) -> Rows:
        return _rehash_page(connection, target, keyring, after, batch)

    return sum(_batch_by_batch(engine, target, step) for target in hashed_columns())


def _batch_by_batch(
    engine: Engine, target: Target, step: Callable[[Connection, Target, tuple[Any, ...] | None], Rows]
) -> int:
    """Run `step` on `target` (one batch after a primary key, returning the rows it did) in a
    transaction of its own, batch after batch until it does none; how many rows in all."""
    count, after = 0, None
    while True:
        with engine.begin() as connection:
            rows = step(connection, target, after)
        if not rows:
            return count
        count, after = count + len(rows), rows[-1][0]


def transform_column(
    connection: Connection, target: EncryptedColumn, change: Change, *, batch: int = 500
) -> int:
    """Rewrite every non-null value of a column with `change`, in `connection`'s transaction; how many.

    For migrations (which run in one transaction): `change` is the key's `encrypt` of the text.
    """
    count, after = 0, None
    while rows := _page(connection, target, after, batch):
        _rewrite(connection, target, rows, change)
        count, after = count + len(rows), rows[-1][0]
    return count


def check_data_key(engine: Engine) -> None:
    """Make sure the engine's key opens the database's encrypted data (first use: record it).

    Raises:
        DataKeyError: no key, or a key that does not open the data (one line, for start-up).
    """
    keyring = keyring_of(engine)
    check = table(_CHECK_TABLE, column("id"), column("token"))
    with engine.begin() as connection:
        token = connection.execute(select(check.c.token).where(check.c.id == 1)).scalar()
        if token is None:
            connection.execute(check.insert().values(id=1, token=keyring.encrypt(CHECK_VALUE.encode())))
            return
        if keyring.decrypt(str(token)).decode("utf-8", "replace") != CHECK_VALUE:
            raise DataKeyError(f"{keyring.source} does not open the encrypted data in this database")


def reencrypt(engine: Engine, *, batch: int = 500) -> int:
    """Re-encrypt every encrypted value under the newest key of the engine's keyring, and recompute
    every keyed hash under it; how many values were re-encrypted.

    Each batch is its own transaction: the keyring reads every key it holds, so values already
    rotated and those not yet are both readable whatever happens in between. A value a running
    instance rewrote since it was read is left as that instance wrote it.
    """
    check_data_key(engine)
    keyring = keyring_of(engine)

    def rotate_page(connection: Connection, target: EncryptedColumn, after: tuple[Any, ...] | None) -> Rows:
        if rows := _page(connection, target, after, batch):
            _rewrite(connection, target, rows, keyring.rotate)
        return rows

    count = sum(_batch_by_batch(engine, target, rotate_page) for target in encrypted_columns())
    rehash(engine, batch=batch)
    return count


def rotate_key(engine: Engine, *, key_file: Path | None = None) -> int:
    """Re-encrypt everything under a new key; how many values were re-encrypted.

    With `HAMPSHIRE_DATA_KEY` (`key_file` None) the new key is the first of the engine's keys and
    the old ones follow it (NEW,OLD): every instance is given both first, then this runs, then the
    old key is removed. With the key file of an embedded SQLite database (stop the bot first), a
    new key is made here: the file holds new and old while values are re-encrypted, so a rotation
    cut short loses nothing, and the new key alone afterwards.

    Raises:
        DataKeyError: the keys do not open the data, or `HAMPSHIRE_DATA_KEY` holds one key only.
    """
    keyring = keyring_of(engine)
    if key_file is None:
        if len(keyring.keys) < 2:
            raise DataKeyError(
                f"{keyring.source} holds one key: put a new key before it (NEW,OLD; `hampshire db new-key` "
                "makes one), run this again, then remove the old key"
            )
        return reencrypt(engine)
    check_data_key(engine)
    rotating = Keyring([new_key(), *keyring.keys], source=keyring.source)
    write_key_file(key_file, rotating.keys)
    attach_keyring(engine, rotating)
    count = reencrypt(engine)
    write_key_file(key_file, rotating.keys[:1])
    attach_keyring(engine, rotating.newest_only())
    return count
