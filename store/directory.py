"""The stored support-services directory: synced from the pack, extended by import."""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.orm import Session

from dialogs.directory import DirectoryIndex
from store.models import DirectoryEntry, DirectoryRevision

__all__ = [
    "ENTRY_FIELDS",
    "all_entries",
    "entries_by_key",
    "remove_entries",
    "search_index",
    "upsert_entries",
]

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
    if count:
        _changed(session)
    return count


def all_entries(*, session: Session) -> list[DirectoryEntry]:
    """Every directory entry, by key."""
    return list(session.scalars(select(DirectoryEntry).order_by(DirectoryEntry.key)))


def remove_entries(*, session: Session, origin: str, keep: Iterable[str]) -> int:
    """Delete entries of `origin` whose key is not in `keep` (a pack that dropped an entry)."""
    result = session.execute(
        delete(DirectoryEntry).where(DirectoryEntry.origin == origin, DirectoryEntry.key.not_in(list(keep)))
    )
    removed = int(result.rowcount)  # type: ignore[attr-defined]
    if removed:
        _changed(session)
    return removed


def entries_by_key(*, session: Session, keys: Iterable[str]) -> dict[str, DirectoryEntry]:
    """The entries with these keys (a page of search results), by key."""
    wanted = list(keys)
    if not wanted:
        return {}
    return {e.key: e for e in session.scalars(select(DirectoryEntry).where(DirectoryEntry.key.in_(wanted)))}


# --- the search index ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Searchable:
    key: str
    name: str
    category: str
    description: str
    for_whom: str
    synonyms: Sequence[str]


@dataclass(frozen=True)
class _Cached:
    token: str | None
    categories: tuple[tuple[str, tuple[str, ...]], ...]
    index: DirectoryIndex


#: Per engine (one database), the index last built and the revision it was built from.
_INDEXES: weakref.WeakKeyDictionary[Engine, _Cached] = weakref.WeakKeyDictionary()
#: Searches run on several threads; a WeakKeyDictionary is not safe to change from two at once.
_INDEXES_LOCK = threading.Lock()
_REVISION_ROW = 1


def _changed(session: Session) -> None:
    token = uuid.uuid4().hex
    done = session.execute(
        update(DirectoryRevision).where(DirectoryRevision.id == _REVISION_ROW).values(token=token)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        session.execute(insert(DirectoryRevision).values(id=_REVISION_ROW, token=token))


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def search_index(*, session: Session, categories: Mapping[str, Sequence[str]]) -> DirectoryIndex:
    """An index of the stored directory for searching, rebuilt only when the directory has changed.

    Costs one primary-key read when the directory is unchanged since the last search on this
    database (by any process: every write changes the stored revision token).
    """
    # The token is read before the entries: an index built from entries newer than its token is
    # only rebuilt once more, while the other order could keep stale entries under a new token.
    token = session.scalar(select(DirectoryRevision.token).where(DirectoryRevision.id == _REVISION_ROW))
    frozen = tuple((category, tuple(words)) for category, words in sorted(categories.items()))
    engine = _engine(session)
    with _INDEXES_LOCK:
        cached = _INDEXES.get(engine)
    if cached is not None and cached.token == token and cached.categories == frozen:
        return cached.index
    columns = select(
        DirectoryEntry.key,
        DirectoryEntry.name,
        DirectoryEntry.category,
        DirectoryEntry.description,
        DirectoryEntry.for_whom,
        DirectoryEntry.synonyms,
    ).order_by(DirectoryEntry.key)
    entries = [_Searchable(*row) for row in session.execute(columns)]
    index = DirectoryIndex(entries, categories)
    with _INDEXES_LOCK:
        _INDEXES[engine] = _Cached(token, frozen, index)
    return index
