"""Which migration the code expects and which the database has, known without importing Alembic.

Every start of `chat` and `serve` makes sure the database is migrated. Importing Alembic (and Mako,
which it loads) costs about as much as the rest of the bot's imports together, so a database that
is already at head is recognised first, from the revision ids written in the version files and
the row in Alembic's `alembic_version` table; only a database behind them needs Alembic.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

__all__ = ["VERSION_TABLE", "head_revisions", "is_at_head", "stored_revisions"]

_VERSIONS = Path(__file__).parent / "migrations" / "versions"
#: Alembic's default version table, which `store.db.upgrade` leaves as it is.
VERSION_TABLE = "alembic_version"


def _ids(value: object) -> set[str]:
    """A `revision` or `down_revision` value as a set (a merge revises a tuple of revisions)."""
    if value is None:
        return set()
    if isinstance(value, str):
        return {value}
    if isinstance(value, Iterable):
        return {str(item) for item in value}
    raise ValueError(f"unexpected revision id {value!r}")


#: The assignments of a version file that say where it sits in the chain.
_CHAIN = ("revision", "down_revision")


def _module_constants(path: Path) -> dict[str, object]:
    """A version file's `revision` and `down_revision`, read without running it (other assignments,
    which need not be literals, are left alone)."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in _CHAIN:
            found[target.id] = ast.literal_eval(value)
    return found


@cache
def head_revisions(versions: Path = _VERSIONS) -> frozenset[str]:
    """The revisions that no other revises: Alembic's heads, read from the version files."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in sorted(versions.glob("*.py")):
        constants = _module_constants(path)
        if "revision" not in constants:
            raise ValueError(f"{path.name} names no revision")
        revisions |= _ids(constants["revision"])
        revised |= _ids(constants.get("down_revision"))
    return frozenset(revisions - revised)


def stored_revisions(*, connection: Connection) -> frozenset[str]:
    """The revisions the database says it is at (none when it was never migrated)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    return frozenset(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def is_at_head(engine: Engine) -> bool:
    """Whether the database is migrated to exactly the code's head revisions."""
    with engine.connect() as connection:
        return stored_revisions(connection=connection) == head_revisions()
