"""What differs between the two databases in a statement: INSERT with an ON CONFLICT clause."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

__all__ = ["INSERTS", "insert_for"]

#: Each database's own INSERT, by dialect name: it can say what to do with a conflicting row.
#: Statements built once per dialect at import take them from here.
INSERTS: dict[str, Callable[[Table], postgresql.Insert | sqlite.Insert]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}


def insert_for(session: Session, model: type[DeclarativeBase]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `model`'s table in the session's database's own dialect (SQLite or
    PostgreSQL), which can say what to do with a row that conflicts with one already there."""
    insert = INSERTS["postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"]
    return insert(cast(Table, model.__table__))
