"""The reply outbox: turns' replies, queued in the turn's transaction, leased to one sender each.

Queueing is idempotent (`dedupe_key` names the turn), and may lease the new row to the sender
that will send it. Claims lock the rows they take (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite
has one writer at a time), so two instances never send one reply; and an outcome is written only
by the sender still holding the row. A claim is a lease: a sender that dies mid-send leaves a
`sending` row whose lease runs out, and that row is looked up on the platform before anything is
sent again.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Table, Update, bindparam, select, update
from sqlalchemy.orm import Session

from store.dialects import INSERTS
from store.models import QueuedReply

__all__ = ["CLAIM_LIMIT", "Lease", "Queued", "claim", "lapsed", "queue", "record", "renew", "take"]

#: The most rows one claim (or one look-up of lapsed leases) takes.
CLAIM_LIMIT = 100


_REPLIES = cast(Table, QueuedReply.__table__)
#: Queueing, built once per dialect: the new row's id, or nothing when the turn's row exists.
_QUEUE = {
    name: insert(_REPLIES)
    .on_conflict_do_nothing(index_elements=[_REPLIES.c.dedupe_key])
    .returning(_REPLIES.c.id)
    for name, insert in INSERTS.items()
}
_QUEUED = select(_REPLIES.c.id).where(_REPLIES.c.dedupe_key == bindparam("key"))


@dataclass(frozen=True)
class Lease:
    """A sender's hold on rows: its name, and when another sender may take the rows over."""

    worker: str
    until: datetime


@dataclass(frozen=True)
class Queued:
    """A turn's row: its id, and when its lease runs out if it was queued leased as asked (None:
    not leased, which a row already queued for the turn never is)."""

    id: int
    until: datetime | None = None


def queue(
    *,
    session: Session,
    key: str,
    channel: str,
    payload: dict[str, Any],
    now: datetime,
    lease: Lease | None = None,
) -> Queued:
    """Queue one turn's replies in the caller's transaction: the row (the existing one for `key`).

    With `lease`, a new row is queued already claimed by that sender for its first attempt, as
    `claim` would leave it: the sender sends it once the turn has committed, without a claim of its
    own. One statement for a new turn. A row another transaction is queueing for `key` is waited
    for (PostgreSQL's ON CONFLICT), then read back if it committed; that row is left as it is, and
    `Queued.until` says it was not leased.
    """
    row = {
        "dedupe_key": key,
        "channel": channel,
        "payload": payload,
        "status": "pending",
        "not_before": now,
        "attempts": 0,
        "claimed_by": None,
        "claimed_until": None,
        "created_at": now,
    }
    if lease is not None:
        row.update(status="sending", attempts=1, claimed_by=lease.worker, claimed_until=lease.until)
    queued = session.execute(_QUEUE[session.get_bind().dialect.name], row).scalar()
    if queued is None:
        return Queued(int(session.execute(_QUEUED, {"key": key}).scalar_one()))
    return Queued(int(queued), None if lease is None else lease.until)


def _leasing(where: ColumnElement[bool], *, attempt: bool) -> Update:
    """The statement leasing the rows `where` finds (at most `:limit`, oldest first) to `:worker`
    until `:until`, an attempt counted if `attempt`; it returns the rows leased.

    One statement, `WITH chosen AS MATERIALIZED (the rows, locked) UPDATE … WHERE id IN chosen
    RETURNING`, so that it commits by itself where the caller's session does
    (`store.db.one_statement_sessions`): a round trip, where a look-up, an update and their
    transaction took four on PostgreSQL. The rows are chosen once, in a CTE: as a plain `IN
    (subquery)`, PostgreSQL may run the subquery again for every row it updates (a nested-loop semi
    join), and each run skips the rows already taken and locks the next, past the limit. `FOR
    UPDATE SKIP LOCKED` is PostgreSQL's (SQLite has one writer at a time and renders none). Built
    once, in Core: built per call through the ORM, a claim cost 2 ms of CPU, most of it in SQLAlchemy.
    """
    chosen = (
        select(_REPLIES.c.id)
        .where(where)
        .order_by(_REPLIES.c.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
        .cte("chosen")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    values: dict[str, Any] = {
        "status": "sending",
        "claimed_by": bindparam("worker"),
        "claimed_until": bindparam("until"),
    }
    if attempt:
        values["attempts"] = _REPLIES.c.attempts + 1
    return (
        update(_REPLIES).where(_REPLIES.c.id.in_(select(chosen.c.id))).values(values).returning(*_REPLIES.c)
    )


_WAITING = (_REPLIES.c.channel == bindparam("on_channel")) & (_REPLIES.c.status == "pending")
_IDS = _REPLIES.c.id.in_(bindparam("ids", expanding=True))
#: Claims of rows by id, due or not (a turn's own row).
_CLAIM_IDS = _leasing(_WAITING & _IDS, attempt=True)
#: Claims of the rows due; one never attempted only once its turn has had its time to send it.
_CLAIM_DUE = _leasing(
    _WAITING
    & (_REPLIES.c.not_before <= bindparam("now"))
    & ((_REPLIES.c.attempts > 0) | (_REPLIES.c.created_at <= bindparam("turns_before"))),
    attempt=True,
)
#: Rows that may or may not have arrived: a lapsed lease, or an `uncertain` outcome due a look-up.
_LAPSED = _leasing(
    (_REPLIES.c.channel == bindparam("on_channel"))
    & (
        ((_REPLIES.c.status == "sending") & (_REPLIES.c.claimed_until < bindparam("now")))
        | ((_REPLIES.c.status == "uncertain") & (_REPLIES.c.not_before <= bindparam("now")))
    ),
    attempt=False,
)
#: Leases extended: only those still held by the sender extending them.
_RENEW = _leasing(
    _IDS & (_REPLIES.c.status == "sending") & (_REPLIES.c.claimed_by == bindparam("worker")), attempt=False
)


def _lease(session: Session, statement: Update, **params: Any) -> list[Row[Any]]:
    """Run a leasing statement (`_leasing`): the rows it leased, in id order."""
    return sorted(session.execute(statement, params), key=lambda row: int(row.id))


def claim(
    *,
    session: Session,
    channel: str,
    now: datetime,
    worker: str,
    lease: timedelta,
    ids: Sequence[int] | None = None,
    left_to_turns: timedelta = timedelta(0),
    limit: int = CLAIM_LIMIT,
) -> list[Row[Any]]:
    """Lease waiting replies on `channel` to `worker`, oldest first (`ids`: those rows alone, due or not).

    Without `ids`, a row never attempted is taken only once `left_to_turns` has passed since it was
    queued: until then it is its turn's to send (the turn claims it by id just after its commit),
    and a sweep taking it in between would send it out of its conversation's order, after the
    turn had answered.
    """
    common = {"on_channel": channel, "worker": worker, "until": now + lease, "limit": limit}
    if ids is not None:
        return _lease(session, _CLAIM_IDS, ids=list(ids), **common)
    return _lease(session, _CLAIM_DUE, now=now, turns_before=now - left_to_turns, **common)


def lapsed(
    *, session: Session, channel: str, now: datetime, worker: str, lease: timedelta, limit: int = CLAIM_LIMIT
) -> list[Row[Any]]:
    """Replies that may or may not have arrived (a lapsed lease, an `uncertain` outcome), re-leased
    to `worker` to be looked up."""
    return _lease(
        session, _LAPSED, on_channel=channel, now=now, worker=worker, until=now + lease, limit=limit
    )


def renew(*, session: Session, ids: Sequence[int], now: datetime, worker: str, lease: timedelta) -> int:
    """Extend the leases `worker` still holds among `ids`; how many."""
    return len(_lease(session, _RENEW, ids=list(ids), worker=worker, until=now + lease, limit=len(ids)))


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


@functools.cache
def _recording(columns: frozenset[str]) -> Update:
    """The statement writing one outcome's `columns` (`:set_<column>`), only while the row is still
    leased to the sender writing it. One per set of columns (an outcome has a few shapes), built once."""
    return (
        update(_REPLIES)
        .where(
            _REPLIES.c.id == bindparam("row_id"),
            _REPLIES.c.status == "sending",
            _REPLIES.c.claimed_by == bindparam("worker"),
        )
        .values({column: bindparam(f"set_{column}") for column in sorted(columns)})
    )


def record(*, session: Session, row_id: int, worker: str, values: Mapping[str, Any]) -> bool:
    """Write what became of a row `worker` was sending (`values`: its columns' new values, the lease
    given up); False when the lease had lapsed and another sender took the row over."""
    params = {f"set_{column}": value for column, value in values.items()}
    result = session.execute(_recording(frozenset(values)), {"row_id": row_id, "worker": worker, **params})
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
