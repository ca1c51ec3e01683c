"""The stored support-services directory: synced from the pack, extended by import."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from store.models import DirectoryEntry

__all__ = ["ENTRY_FIELDS", "all_entries", "remove_entries", "upsert_entries"]

#: The fields an entry is imported and exported with.
ENTRY_FIELDS = (
    "key",
    "name",
    "category",
    "description",
    "phone",
    "email",
    "web",
    "hours",
    "for_whom",
    "synonyms",
    "source",
    "flags",
)


def upsert_entries(
    *, session: Session, entries: Iterable[Mapping[str, Any]], origin: str, now: datetime
) -> int:
    """Insert or update entries by key; `flags` must already hold every problem found.

    Returns the number of entries written. An entry is verified when it has no flags.
    """
    existing = {e.key: e for e in session.scalars(select(DirectoryEntry))}
    count = 0
    for data in entries:
        values = {field: data.get(field) for field in ENTRY_FIELDS}
        values["synonyms"] = list(values["synonyms"] or [])
        values["flags"] = dict(values["flags"] or {})
        entry = existing.get(str(values["key"]))
        if entry is None:
            entry = DirectoryEntry(**values, verified=not values["flags"], origin=origin, updated_at=now)
            session.add(entry)
        else:
            changed = any(getattr(entry, field) != value for field, value in values.items())
            if not changed:
                continue
            for field, value in values.items():
                setattr(entry, field, value)
            entry.verified = not values["flags"]
            entry.origin = origin
            entry.updated_at = now
        count += 1
    session.flush()
    return count


def all_entries(*, session: Session) -> list[DirectoryEntry]:
    """Every directory entry, by key."""
    return list(session.scalars(select(DirectoryEntry).order_by(DirectoryEntry.key)))


def remove_entries(*, session: Session, origin: str, keep: Iterable[str]) -> int:
    """Delete entries of `origin` whose key is not in `keep` (a pack that dropped an entry)."""
    result = session.execute(
        delete(DirectoryEntry).where(DirectoryEntry.origin == origin, DirectoryEntry.key.not_in(list(keep)))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
