"""Encryption at rest: the column types that keep an assault's account unreadable in the database.

How to use it: give a column one of the two types and nothing else changes for the code that
reads and writes it::

    from store.crypto import Encrypted, EncryptedJSON

    location: Mapped[str] = mapped_column(Encrypted)            # a str, stored as a Fernet token
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)  # any JSON value, likewise

The stored value is a Fernet token (AES-128-CBC with an HMAC-SHA256, from the maintained
`cryptography` library), so the column is TEXT in the database and, since each token has a fresh
IV, it can be neither compared nor grouped in SQL: a column that must be searched needs a keyed
hash beside it. In a migration the column is `sa.Text()`; one that gives an existing column one of
these types must also encrypt its rows (as `store/migrations/versions/0009_at_rest.py` does, with
`store.data_key.transform_column`).
`hampshire db rotate-key` finds every column of these types by itself.

A column that reports group by keeps, beside its ciphertext, a keyed hash of its normalised value
(`Keyring.keyed_hash`: HMAC-SHA256 under a hashing key derived from the newest data key with HKDF),
so SQL can count and group without decrypting. Such a column is declared with `keyed_hash_of`
(see `store.models.Case.location_key`); rotation recomputes it under the new key.

The key belongs to the engine, not to the process: `store.db.make_engine` attaches a `Keyring`
(from `HAMPSHIRE_DATA_KEY`, or the key file beside an embedded SQLite database), and the types look
it up from the dialect they are handed. A keyring holds one or more keys, newest first: values are
written with the first and read with any (`MultiFernet`), which is what makes rotation safe while
instances keep running.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, Engine, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.default import DefaultExecutionContext

__all__ = [
    "DataKeyError",
    "Encrypted",
    "EncryptedJSON",
    "Keyring",
    "KEYED_HASH_OF",
    "attach_keyring",
    "keyed_hash_of",
    "keyring_if_any",
    "keyring_of",
    "new_key",
    "read_key_file",
    "write_key_file",
]

#: The environment variable that holds the data key(s), comma-separated, newest first.
KEY_VARIABLE = "HAMPSHIRE_DATA_KEY"
#: What the hashing key is derived for (HKDF `info`): another purpose would derive another key.
_HASH_KEY_PURPOSE = b"op-hampshire keyed hash of a grouped column v1"
#: The `info` entry of a column that holds the keyed hash of another column (its name).
KEYED_HASH_OF = "keyed_hash_of"


class DataKeyError(RuntimeError):
    """The data key is missing, malformed or does not open the stored data; the message is one line."""


def new_key() -> str:
    """A fresh random data key (a Fernet key: 32 bytes, url-safe base64)."""
    return Fernet.generate_key().decode("ascii")


class Keyring:
    """Data keys, newest first: encrypts with the first, decrypts with any of them."""

    def __init__(self, keys: Sequence[str], *, source: str = KEY_VARIABLE) -> None:
        if not keys:
            raise DataKeyError(f"{source} holds no key")
        try:
            self._fernets = [Fernet(key.strip().encode("ascii")) for key in keys]
        except (ValueError, UnicodeEncodeError):
            raise DataKeyError(
                f"{source} is not a list of data keys (each 32 url-safe base64 bytes; "
                "`hampshire db new-key` makes one)"
            ) from None
        self.keys = tuple(key.strip() for key in keys)
        self.source = source
        self._multi = MultiFernet(self._fernets)
        self._hash_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HASH_KEY_PURPOSE).derive(
            base64.urlsafe_b64decode(self.keys[0])
        )

    @classmethod
    def parse(cls, value: str, *, source: str = KEY_VARIABLE) -> Keyring:
        """Keys as written in `HAMPSHIRE_DATA_KEY`: comma-separated, newest first."""
        return cls([key for key in value.split(",") if key.strip()], source=source)

    def encrypt(self, plain: bytes) -> str:
        """A token for `plain`, under the newest key."""
        return self._multi.encrypt(plain).decode("ascii")

    def decrypt(self, token: str) -> bytes:
        """The plain bytes of `token`, under whichever key opens it.

        Raises:
            DataKeyError: none of the keys opens it (a wrong key, or the value was altered).
        """
        try:
            return self._multi.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise DataKeyError(
                f"{self.source} does not open the encrypted data in this database (a wrong key?)"
            ) from None

    def rotate(self, token: str) -> str:
        """`token` re-encrypted under the newest key (it must open with one of the keys)."""
        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError):
            raise DataKeyError(
                f"{self.source} does not open the encrypted data in this database (a wrong key?)"
            ) from None

    def keyed_hash(self, value: str) -> str:
        """HMAC-SHA256 (hex) of `value` normalised (trimmed, case-folded, inner whitespace collapsed),
        under the hashing key derived from the newest key: equal places hash alike, and the hash
        tells nothing to whoever lacks the key."""
        normalised = " ".join(value.split()).casefold()
        return hmac.new(self._hash_key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()

    def newest_only(self) -> Keyring:
        """The keyring without its older keys (after a rotation)."""
        return Keyring(self.keys[:1], source=self.source)


_KEYRINGS: weakref.WeakKeyDictionary[Dialect, Keyring] = weakref.WeakKeyDictionary()


def attach_keyring(engine: Engine, keyring: Keyring) -> None:
    """Make `keyring` the one the encrypted columns use on `engine` (each engine has its own dialect)."""
    _KEYRINGS[engine.dialect] = keyring


def keyring_if_any(bind: Engine | Connection | Dialect) -> Keyring | None:
    """The keyring attached to an engine, or None when it was opened without a data key."""
    return _KEYRINGS.get(bind if isinstance(bind, Dialect) else bind.dialect)


def keyring_of(bind: Engine | Connection | Dialect) -> Keyring:
    """The keyring attached to an engine (given it, one of its connections, or its dialect).

    Raises:
        DataKeyError: the engine was opened without a data key.
    """
    dialect = bind if isinstance(bind, Dialect) else bind.dialect
    keyring = keyring_if_any(dialect)
    if keyring is None:
        raise DataKeyError(
            f"{KEY_VARIABLE} is not set: a {dialect.name} database keeps its case detail encrypted "
            "and needs the key (`hampshire db new-key` makes one)"
        )
    return keyring


def keyed_hash_of(source: str) -> Callable[[DefaultExecutionContext], str | None]:
    """A column default: the keyed hash of the row's `source` value, under the engine's key.

    As a column's `default` it is computed for every INSERT, through the ORM or Core alike, from
    the plain value about to be encrypted; an ORM update of `source` recomputes it too (the
    listener in `store.models`), so the hash is written wherever the value is.
    """

    def default(context: DefaultExecutionContext) -> str | None:
        value = context.get_current_parameters().get(source)  # type: ignore[no-untyped-call]
        return None if value is None else keyring_of(context.dialect).keyed_hash(str(value))

    return default


class Encrypted(TypeDecorator[str]):
    """A string stored as a Fernet token under the engine's data key (see the module's docstring)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring_of(dialect).encrypt(value.encode("utf-8"))

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring_of(dialect).decrypt(value).decode("utf-8")


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value stored as a Fernet token under the engine's data key (see the module's docstring)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring_of(dialect).encrypt(json.dumps(value, separators=(",", ":")).encode("utf-8"))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(keyring_of(dialect).decrypt(value))


# --- the key file of an embedded SQLite database --------------------------------------------------


def key_file_for(database: Path) -> Path:
    """Where the key of an embedded SQLite database lives: beside it, named after it."""
    return database.with_name(database.name + ".key")


def read_key_file(path: Path, *, create: bool = True) -> Keyring:
    """The keyring in a key file (one key a line, newest first), created with a fresh key if missing.

    The file is created with mode 0600 and refused when others may read it.

    Raises:
        DataKeyError: the file is readable by others, or holds no usable key.
    """
    if create and not path.exists():
        try:
            _write_new(path, [new_key()])
        except FileExistsError:
            pass  # another process created it first: use theirs
        except OSError as error:
            raise DataKeyError(f"cannot create the data key file {path}: {error.strerror}") from None
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise DataKeyError(f"cannot read the data key file {path}: {error}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DataKeyError(f"the data key file {path} may be read by others (run: chmod 600 {path})")
    return Keyring(text.split(), source=f"the data key file {path}")


def write_key_file(path: Path, keys: Sequence[str]) -> None:
    """Replace the key file with `keys` (newest first), atomically, mode 0600."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    _write_new(temporary, keys)
    os.replace(temporary, path)


def _write_new(path: Path, keys: Sequence[str]) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write("".join(f"{key}\n" for key in keys))
        file.flush()
        os.fsync(file.fileno())
