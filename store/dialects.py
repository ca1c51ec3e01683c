"""What differs between the two databases in a statement: INSERT with an ON CONFLICT clause."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

__all__ = ["insert_for"]


def insert_for(session: Session, model: type[DeclarativeBase]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `model`'s table in the session's database's own dialect (SQLite or
    PostgreSQL), which can say what to do with a row that conflicts with one already there."""
    table = cast(Table, model.__table__)
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
