"""The reply outbox: turns' replies, queued in the turn's transaction, leased to one sender each.

Queueing is idempotent (`dedupe_key` names the turn). Claims lock the rows they take (`FOR UPDATE
SKIP LOCKED` on PostgreSQL; SQLite has one writer at a time), so two instances never send one
reply. A claim is a lease: a sender that dies mid-send leaves a `sending` row whose lease runs out,
and that row is looked up on the platform before anything is sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.models import QueuedReply

__all__ = ["CLAIM_LIMIT", "claim", "lapsed", "queue", "renew", "rows", "take"]

#: The most rows one claim (or one look-up of lapsed leases) takes.
CLAIM_LIMIT = 100


_REPLIES = cast(Table, QueuedReply.__table__)
#: Queueing, built once per dialect: the new row's id, or nothing when the turn's row exists.
_QUEUE = {
    name: insert(_REPLIES)
    .on_conflict_do_nothing(index_elements=[_REPLIES.c.dedupe_key])
    .returning(_REPLIES.c.id)
    for name, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}
_QUEUED = select(_REPLIES.c.id).where(_REPLIES.c.dedupe_key == bindparam("key"))


def queue(*, session: Session, key: str, channel: str, payload: dict[str, Any], now: datetime) -> int:
    """Queue one turn's replies in the caller's transaction; the row's id (the existing one for `key`).

    One statement for a new turn. A row another transaction is queueing for `key` is waited for
    (PostgreSQL's ON CONFLICT), then read back if it committed.
    """
    row = {
        "dedupe_key": key,
        "channel": channel,
        "payload": payload,
        "status": "pending",
        "not_before": now,
        "attempts": 0,
        "created_at": now,
    }
    queued = session.execute(_QUEUE[session.get_bind().dialect.name], row).scalar()
    if queued is None:
        queued = session.execute(_QUEUED, {"key": key}).scalar_one()
    return int(queued)


def _lease(
    session: Session, query: Select[QueuedReply], *, worker: str, until: datetime, attempt: bool
) -> list[QueuedReply]:
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    for row in rows:
        row.status, row.claimed_by, row.claimed_until = "sending", worker, until
        row.attempts += attempt
    session.flush()
    return rows


def claim(
    *,
    session: Session,
    channel: str,
    now: datetime,
    worker: str,
    lease: timedelta,
    ids: Sequence[int] | None = None,
    limit: int = CLAIM_LIMIT,
) -> list[QueuedReply]:
    """Lease waiting replies on `channel` to `worker`, oldest first (`ids`: those rows alone, due or not)."""
    query = select(QueuedReply).where(QueuedReply.channel == channel, QueuedReply.status == "pending")
    if ids is not None:
        query = query.where(QueuedReply.id.in_(list(ids)))
    else:
        query = query.where(QueuedReply.not_before <= now)
    query = query.order_by(QueuedReply.id).limit(limit)
    return _lease(session, query, worker=worker, until=now + lease, attempt=True)


def lapsed(
    *, session: Session, channel: str, now: datetime, worker: str, lease: timedelta, limit: int = CLAIM_LIMIT
) -> list[QueuedReply]:
    """Replies that may or may not have arrived (a lapsed lease, an `uncertain` outcome), re-leased
    to `worker` to be looked up."""
    query = (
        select(QueuedReply)
        .where(
            QueuedReply.channel == channel,
            ((QueuedReply.status == "sending") & (QueuedReply.claimed_until < now))
            | ((QueuedReply.status == "uncertain") & (QueuedReply.not_before <= now)),
        )
        .order_by(QueuedReply.id)
        .limit(limit)
    )
    return _lease(session, query, worker=worker, until=now + lease, attempt=False)


def renew(*, session: Session, ids: Sequence[int], now: datetime, worker: str, lease: timedelta) -> int:
    """Extend the leases `worker` still holds among `ids`; how many."""
    query = select(QueuedReply).where(
        QueuedReply.id.in_(list(ids)), QueuedReply.status == "sending", QueuedReply.claimed_by == worker
    )
    return len(_lease(session, query, worker=worker, until=now + lease, attempt=False))


def take(*, session: Session, ids: Sequence[int], now: datetime, shown_on: str) -> list[QueuedReply]:
    """Waiting replies shown in-process (the console), recorded as delivered there, in id order."""
    rows = list(
        session.scalars(
            select(QueuedReply)
            .where(QueuedReply.id.in_(list(ids)), QueuedReply.status == "pending")
            .order_by(QueuedReply.id)
        )
    )
    for row in rows:
        row.status, row.sent_at, row.platform_message_id, row.attempts = "sent", now, shown_on, 1
    return rows


def rows(*, session: Session, ids: Sequence[int]) -> dict[int, QueuedReply]:
    """The rows `ids` that exist, by id, read in one statement (to record several outcomes)."""
    return {row.id: row for row in session.scalars(select(QueuedReply).where(QueuedReply.id.in_(list(ids))))}
