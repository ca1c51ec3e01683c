"""OPCC visit requests, their steps and timeline: rows read and written (rules: `bot.visits`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Nudge, Person, VisitEvent, VisitRequest, VisitStep

__all__ = [
    "STEP_KEY",
    "QuarterCount",
    "add_visit_event",
    "add_visit_request",
    "due_steps",
    "find_visit",
    "pending_step_messages",
    "visit_by_submission",
    "visit_counts",
    "visit_events",
    "visits_of",
]

#: What a request's outbox rows are keyed by, so a step's pending reminders can be found again.
STEP_KEY = "visit:s{step_id}:"


def _next_reference(session: Session, year: int) -> str:
    """The next visit reference of `year` ("OV-2026-0007"); a race ends in the unique key and a retry."""
    prefix = f"OV-{year}-"
    count = session.scalar(select(func.count()).where(VisitRequest.reference.like(f"{prefix}%"))) or 0
    return f"{prefix}{count + 1:04d}"


def visit_by_submission(*, session: Session, submission_key: str) -> VisitRequest | None:
    """The request a conversation already submitted (a double-clicked confirmation), or None."""
    return session.scalar(select(VisitRequest).where(VisitRequest.submission_key == submission_key))


def add_visit_request(
    *,
    session: Session,
    visitor: Person,
    submission_key: str,
    visitee: str,
    investigation: str,
    nature: str,
    capacity: str,
    proposed_on: date,
    now: datetime,
) -> VisitRequest:
    """Store a new request with its reference."""
    request = VisitRequest(
        reference=_next_reference(session, now.year),
        submission_key=submission_key,
        visitor=visitor,
        visitee=visitee,
        investigation=investigation,
        nature=nature,
        capacity=capacity,
        proposed_on=proposed_on,
        status="requested",
        requested_at=now,
    )
    session.add(request)
    session.flush()
    return request


def find_visit(*, session: Session, reference: str) -> VisitRequest | None:
    """The request with this reference (any case), or None."""
    return session.scalar(select(VisitRequest).where(VisitRequest.reference == reference.strip().upper()))


def visits_of(*, session: Session, visitor: Person) -> list[VisitRequest]:
    """The requests `visitor` made, newest first."""
    query = select(VisitRequest).where(VisitRequest.visitor_id == visitor.id)
    return list(session.scalars(query.order_by(VisitRequest.requested_at.desc(), VisitRequest.id.desc())))


def add_visit_event(
    *, session: Session, request: VisitRequest, kind: str, actor: Person | None, now: datetime, **detail: Any
) -> None:
    """Add an entry to the request's timeline (ids and kinds only)."""
    session.add(
        VisitEvent(
            request_id=request.id, at=now, actor_id=actor.id if actor else None, kind=kind, detail=detail
        )
    )


def visit_events(*, session: Session, request: VisitRequest) -> list[VisitEvent]:
    """The request's timeline, oldest first."""
    query = select(VisitEvent).where(VisitEvent.request_id == request.id)
    return list(session.scalars(query.order_by(VisitEvent.at, VisitEvent.id)))


def due_steps(*, session: Session, now: datetime, limit: int = 1000) -> list[VisitStep]:
    """Open steps whose reminder or escalation is due, oldest first, locked on PostgreSQL."""
    query = (
        select(VisitStep)
        .where(VisitStep.status == "open", VisitStep.next_nudge_at <= now)
        .order_by(VisitStep.next_nudge_at, VisitStep.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def pending_step_messages(*, session: Session, step_id: int) -> list[Nudge]:
    """A step's reminders and escalations not yet sent (withdrawn when the step is done)."""
    query = select(Nudge).where(
        Nudge.dedupe_key.like(STEP_KEY.format(step_id=step_id) + "%"), Nudge.status.in_(("pending", "held"))
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class QuarterCount:
    """Visit requests of one quarter ("2026-Q4"): asked for, approved, declined, debriefed."""

    quarter: str
    requested: int
    approved: int
    declined: int
    debriefed: int


def visit_counts(
    *,
    session: Session,
    timezone: str = "Europe/London",
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[QuarterCount]:
    """Requests by the quarter they were made in (the force's time zone), oldest quarter first.

    Only requests made from `start` (inclusive) to `end` (exclusive) when given. For `hampshire
    report`: a force makes a few dozen requests a year, so they are counted here rather than
    grouped in SQL (quarters in a local zone differ between SQLite and PostgreSQL).
    """
    zone = ZoneInfo(timezone)
    query = select(VisitRequest.requested_at, VisitRequest.status, VisitRequest.debriefed_at)
    if start is not None:
        query = query.where(VisitRequest.requested_at >= start)
    if end is not None:
        query = query.where(VisitRequest.requested_at < end)
    rows: Sequence[tuple[datetime, str, datetime | None]] = session.execute(query).all()
    counts: dict[str, Counter[str]] = {}
    for requested_at, status, debriefed_at in rows:
        local = requested_at.astimezone(zone)
        quarter = f"{local.year}-Q{(local.month - 1) // 3 + 1}"
        tally = counts.setdefault(quarter, Counter())
        tally["requested"] += 1
        if status in ("approved", "debriefed"):
            tally["approved"] += 1
        if status == "declined":
            tally["declined"] += 1
        if debriefed_at is not None:
            tally["debriefed"] += 1
    return [
        QuarterCount(q, c["requested"], c["approved"], c["declined"], c["debriefed"])
        for q, c in sorted(counts.items())
    ]
