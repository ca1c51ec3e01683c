"""The nudge outbox: queued in the sweep's transaction, claimed and recorded by delivery.

Queueing is idempotent (`dedupe_key` is unique: kind, point, due slot, recipient). Claims lock the
rows they take: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several instances never take the same
row; SQLite has one writer at a time (every transaction begins IMMEDIATE), which serialises them.
A claim is a lease: a worker that dies mid-send leaves a `sending` row whose lease runs out, and
that row is reconciled with the platform before anything is sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Row, Select, Table, bindparam, exists, select, update
from sqlalchemy.orm import Session

from store.dialects import insert_for
from store.models import ChannelIdentity, Nudge, NudgeStatus, Person, PlanPoint

__all__ = [
    "renew",
    "CLAIMABLE",
    "claim",
    "due_points",
    "enqueue",
    "ANY_HELD",
    "held_for",
    "hold_unreachable",
    "lapsed_claims",
    "outbox_row",
    "pending_about",
    "release_held",
    "queued_since",
    "REMINDER_KINDS",
    "withdraw_reminders",
]

#: Rows delivery may take: waiting, or held because the person had no channel to reach them on.
CLAIMABLE: tuple[NudgeStatus, ...] = ("pending", "held")
#: Messages that ask someone to act on a point: withdrawn once the point (or the need) is gone.
REMINDER_KINDS = ("nudge", "unassigned", "escalation")
#: Keys looked up per query when queueing (well under both databases' limits on parameters).
_KEYS_PER_QUERY = 5000


_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


def _locking(session: Session, query: _Query) -> _Query:
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def outbox_row(
    *,
    kind: str,
    dedupe_key: str,
    recipient_id: int,
    due_slot: datetime,
    payload: dict[str, Any],
    now: datetime,
    not_before: datetime,
    point_id: int | None = None,
    case_id: int | None = None,
    urgent: bool = False,
) -> dict[str, Any]:
    """The values of one outbox row, ready for `enqueue` (`urgent` rows are delivered first)."""
    return {
        "dedupe_key": dedupe_key,
        "kind": kind,
        "point_id": point_id,
        "case_id": case_id,
        "recipient_id": recipient_id,
        "due_slot": due_slot,
        "payload": payload,
        "status": "pending",
        "not_before": not_before,
        "attempts": 0,
        "created_at": now,
        "urgent": urgent,
    }


def enqueue(*, session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Queue messages, skipping any whose (kind, point, slot, recipient) is queued already.

    Returns how many were new. Runs inside the caller's transaction, so a row exists exactly when
    the change that caused it does. Written with one executemany and no RETURNING, which on
    PostgreSQL costs three times as much.
    """
    if not rows:
        return 0
    keys = [row["dedupe_key"] for row in rows]
    existing: set[str] = set()
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        chunk = keys[start : start + _KEYS_PER_QUERY]
        existing.update(session.scalars(select(Nudge.dedupe_key).where(Nudge.dedupe_key.in_(chunk))))
    fresh = [row for row in rows if row["dedupe_key"] not in existing]
    if fresh:
        # The conflict clause still guards against another writer between the look-up and here.
        statement = insert_for(session, Nudge).on_conflict_do_nothing(index_elements=["dedupe_key"])
        session.execute(statement, fresh)
    return len(fresh)


def due_points(*, session: Session, now: datetime, limit: int) -> list[Row[*tuple[Any, ...]]]:
    """Open points the sweep must act on by `now`, earliest first, locked for this sweep.

    Uses the (status, next_nudge_at) index and returns plain rows. The locking query reads the
    plan_point table alone: a join under SKIP LOCKED can hand one row to two workers.
    """
    point = PlanPoint
    query = (
        select(
            point.id,
            point.status,
            point.case_id,
            point.code,
            point.instance,
            point.owner_role,
            point.owner_id,
            point.due_at,
            point.urgent,
            point.remind_at,
            point.escalated_at,
            point.nudge_count,
        )
        .where(point.status == "open", point.next_nudge_at <= now)
        .order_by(point.next_nudge_at, point.id)
        .limit(limit)
    )
    return list(session.execute(_locking(session, query)))


def pending_about(*, session: Session, case_id: int) -> list[Nudge]:
    """A case's reminders not yet taken for delivery, locked (to withdraw those about closed points)."""
    query = select(Nudge).where(Nudge.case_id == case_id, Nudge.status.in_(CLAIMABLE)).order_by(Nudge.id)
    return list(session.scalars(_locking(session, query)))


def _lease(
    session: Session, query: Select[Nudge], *, worker: str, until: datetime, attempt: bool
) -> list[Nudge]:
    """Lock the rows `query` finds and lease them to `worker` (counting an attempt if `attempt`)."""
    rows = list(session.scalars(_locking(session, query)))
    for row in rows:
        row.status, row.claimed_by, row.claimed_until = "sending", worker, until
        row.attempts += attempt
    session.flush()
    return rows


def _reachable(channels: Sequence[str]) -> ColumnElement[bool]:
    """Whether a row's recipient has an account on one of `channels` (a push channel we can use)."""
    return exists().where(
        ChannelIdentity.person_id == Nudge.recipient_id, ChannelIdentity.channel.in_(list(channels))
    )


def claim(
    *,
    session: Session,
    now: datetime,
    worker: str,
    lease: timedelta,
    limit: int,
    channels: Sequence[str] | None = None,
) -> list[Nudge]:
    """Take up to `limit` rows due for delivery, leasing them to `worker`: urgent ones first, then
    the oldest slot first.

    With `channels`, only rows for people who can be reached on one of them: however many rows wait
    for people the bot cannot reach, they never take the places of rows it can send.
    """
    query = select(Nudge).where(Nudge.status.in_(CLAIMABLE), Nudge.not_before <= now)
    if channels is not None:
        query = query.where(_reachable(channels))
    query = query.order_by(Nudge.urgent.desc(), Nudge.due_slot, Nudge.id).limit(limit)
    return _lease(session, query, worker=worker, until=now + lease, attempt=True)


def hold_unreachable(*, session: Session, now: datetime, channels: Sequence[str]) -> list[tuple[int, str]]:
    """Mark `held` the due rows for people with no account on any of `channels`; their ids and kinds.

    One statement, whatever their number: they wait (and show in the console) without being
    claimed, and `claim` takes them as soon as the person reaches the bot on one of `channels`.
    The kinds let the caller act on the few that must not just wait (a victim's leaflet).
    """
    query = update(Nudge).where(Nudge.status == "pending", Nudge.not_before <= now, ~_reachable(channels))
    held = session.execute(
        query.values(status="held")
        .returning(Nudge.id, Nudge.kind)
        .execution_options(synchronize_session=False)
    )
    return [(int(row_id), str(kind)) for row_id, kind in held]


def renew(
    *, session: Session, ids: Sequence[int], now: datetime, worker: str, lease: timedelta
) -> list[Nudge]:
    """The rows among `ids` still leased to `worker`, their lease renewed from `now`.

    A row whose lease lapsed and was taken by another worker is not among them.
    """
    query = (
        select(Nudge)
        .where(Nudge.id.in_(ids), Nudge.status == "sending", Nudge.claimed_by == worker)
        .order_by(Nudge.due_slot, Nudge.id)
    )
    return _lease(session, query, worker=worker, until=now + lease, attempt=False)


def lapsed_claims(
    *, session: Session, now: datetime, worker: str, lease: timedelta, limit: int
) -> list[Nudge]:
    """Rows whose send may or may not have happened: a lapsed lease, or an `uncertain` outcome.

    They are re-leased to `worker` for reconciliation.
    """
    query = (
        select(Nudge)
        .where(
            ((Nudge.status == "sending") & (Nudge.claimed_until < now))
            | ((Nudge.status == "uncertain") & (Nudge.not_before <= now))
        )
        .order_by(Nudge.due_slot, Nudge.id)
        .limit(limit)
    )
    return _lease(session, query, worker=worker, until=now + lease, attempt=False)


def queued_since(
    *, session: Session, kind: str, recipient_ids: Sequence[int], since: datetime
) -> list[Nudge]:
    """Rows of `kind` for `recipient_ids` queued at or after `since` and not yet taken for delivery,
    locked (a sweep adds to the escalation it queued in an earlier batch)."""
    if not recipient_ids:
        return []
    query = select(Nudge).where(
        Nudge.kind == kind,
        Nudge.recipient_id.in_(list(recipient_ids)),
        Nudge.created_at >= since,
        Nudge.status.in_(CLAIMABLE),
    )
    return list(session.scalars(_locking(session, query.order_by(Nudge.id))))


def held_for(*, session: Session, person_id: int, kinds: Sequence[str] | None = None) -> list[Nudge]:
    """Messages waiting for a person who has no push channel (shown when they open the console)."""
    query = select(Nudge).where(Nudge.recipient_id == person_id, Nudge.status.in_(CLAIMABLE))
    if kinds:
        query = query.where(Nudge.kind.in_(kinds))
    return list(session.scalars(_locking(session, query.order_by(Nudge.due_slot, Nudge.id))))


_NUDGES = cast(Table, Nudge.__table__)
_HELD = _NUDGES.c.status == "held"
#: Whether messages are held for the person loaded (`Person.has_held`): a query that loads people
#: asks with `with_expression(Person.has_held, ANY_HELD)`, and a turn releases them only then.
ANY_HELD: ColumnElement[bool] = exists().where(_NUDGES.c.recipient_id == Person.id, _HELD)
# Built once: a turn runs it when messages are held for the person.
_RELEASE = (
    update(_NUDGES)
    .where(_NUDGES.c.recipient_id == bindparam("person_id"), _HELD)
    .values(status="pending", not_before=bindparam("now"))
)


def release_held(*, session: Session, person_id: int, now: datetime) -> int:
    """Messages held for a person nobody could reach, due again from `now` (they just reached us).

    Returns how many. Uses the (recipient, status) index.
    """
    result = session.execute(_RELEASE, {"person_id": person_id, "now": now})
    return int(getattr(result, "rowcount", 0) or 0)


def withdraw_reminders(
    *, session: Session, point_ids: Sequence[int], kinds: Sequence[str] = REMINDER_KINDS
) -> int:
    """Withdraw reminders not yet sent that are about one of `point_ids` alone (`point_id` rows).

    Only rows still waiting (pending or held) change; one being sent is left to finish. Returns
    how many were withdrawn. Notices to people (the victim's, the SLT's) are never reminders; grouped
    reminders name their points in the payload and are settled by `bot.reminders.queue`.
    """
    if not point_ids:
        return 0
    query = update(Nudge).where(
        Nudge.status.in_(CLAIMABLE), Nudge.kind.in_(list(kinds)), Nudge.point_id.in_(list(point_ids))
    )
    result = session.execute(query.values(status="withdrawn").execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
