"""The inbox: work a channel acknowledged to its platform, kept until it is done.

A platform that has had its acknowledgement does not send the work again, so the work is written
here first and deleted when finished. Work left behind by a crash is claimed again once its lease
has run out; the claim is a conditional update on one row, so two instances cannot both take it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from store.dialects import INSERTS
from store.models import InboxItem

__all__ = ["Claimed", "bury", "claim_expired", "complete", "complete_many", "receive", "receive_many"]


_ITEMS = cast(Table, InboxItem.__table__)
# Built once (per dialect for storing): a Slack message stores its work and its turn deletes it.
_RECEIVE = {
    name: insert(_ITEMS)
    .on_conflict_do_nothing(index_elements=[_ITEMS.c.source, _ITEMS.c.dedupe_key])
    # Matched by key, not by position: an ordered RETURNING costs SQLite a statement per row.
    .returning(_ITEMS.c.dedupe_key, _ITEMS.c.id)
    for name, insert in INSERTS.items()
}
_COMPLETE = delete(_ITEMS).where(_ITEMS.c.id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True)
class Claimed:
    """An inbox item taken for another attempt."""

    id: int
    dedupe_key: str
    payload: dict[str, Any]
    attempts: int


def receive(
    *, session: Session, source: str, key: str, payload: dict[str, Any], now: datetime, lease: timedelta
) -> int | None:
    """Store work leased to the caller; None when work with the same key is already waiting.

    Args:
        key: the platform's id for the work (a Slack event id): a retried delivery carries the same.
        lease: how long the caller has to finish before a sweep may take the work over.
    """
    return receive_many(session=session, source=source, work=[(key, payload)], now=now, lease=lease)[0]


def receive_many(
    *,
    session: Session,
    source: str,
    work: Sequence[tuple[str, dict[str, Any]]],
    now: datetime,
    lease: timedelta,
) -> list[int | None]:
    """`receive` for several pieces of work `(key, payload)` at once, in one statement.

    Their ids in order, None for a key already waiting (or earlier in `work`). The database skips
    a key already stored (ON CONFLICT DO NOTHING), one another instance is storing at the same
    moment included: PostgreSQL waits for that insert, or an uncommitted delete of the key, to
    commit or roll back, and SQLite has one writer. No look-up first, no savepoint: one round trip,
    where there were up to four. Two instances storing the same keys in different orders can
    deadlock on PostgreSQL: one is told so (an error), and the caller stores each piece alone.
    One statement up to SQLAlchemy's insertmanyvalues page (1,000 rows; the inbox stores at most
    `bot.batching.Batcher.limit`, 100): past it, SQLAlchemy sends a statement a page, which a
    caller storing in autocommit (`store.db.one_statement_sessions`) would see committed apart.
    """
    new: dict[str, dict[str, Any]] = {}
    for key, payload in work:
        if key not in new:
            new[key] = {
                "source": source,
                "dedupe_key": key,
                "payload": payload,
                "status": "pending",
                "attempts": 1,
                "received_at": now,
                "lease_until": now + lease,
            }
    if not new:
        return [None] * len(work)
    statement = _RECEIVE[session.get_bind().dialect.name]
    # In arrival order, which ids keep: work a crash cut short is taken up again in id order.
    stored = {key: item_id for key, item_id in session.execute(statement, list(new.values()))}
    ids: list[int | None] = []
    for key, _ in work:
        ids.append(stored.pop(key, None))  # a key twice in `work`: the first has the id
    return ids


def complete(*, session: Session, item_id: int) -> None:
    """Forget finished work."""
    complete_many(session=session, item_ids=[item_id])


def complete_many(*, session: Session, item_ids: Sequence[int]) -> None:
    """Forget several pieces of finished work in one statement."""
    session.execute(_COMPLETE, {"ids": list(item_ids)})


def claim_expired(
    *, session: Session, source: str, now: datetime, lease: timedelta, limit: int = 50
) -> list[Claimed]:
    """Take pending work whose lease has run out, oldest first, each for one more attempt."""
    candidates = session.scalars(
        select(InboxItem)
        .where(InboxItem.source == source, InboxItem.status == "pending", InboxItem.lease_until <= now)
        .order_by(InboxItem.received_at, InboxItem.id)
        .limit(limit)
    ).all()
    claimed = []
    for item in candidates:
        taken = session.execute(
            update(InboxItem)
            .where(InboxItem.id == item.id, InboxItem.status == "pending", InboxItem.lease_until <= now)
            .values(lease_until=now + lease, attempts=InboxItem.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(Claimed(item.id, item.dedupe_key, dict(item.payload), item.attempts + 1))
    return claimed


def bury(*, session: Session, item_id: int, payload: dict[str, Any]) -> None:
    """Stop retrying work that keeps failing; `payload` replaces what was stored (redacted)."""
    session.execute(
        update(InboxItem)
        .where(InboxItem.id == item_id)
        .values(status="dead", payload=payload)
        .execution_options(synchronize_session=False)
    )
