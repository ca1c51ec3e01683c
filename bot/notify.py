"""Queueing messages to people: quiet hours applied, one row per (kind, point, slot, recipient)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dialogs.clock import quiet_until
from dialogs.schema import Pack
from store.models import Case, Person, PlanPoint
from store.outbox import enqueue
from store.people import people_with_role

__all__ = ["deliver_after", "queue", "senior_leaders"]


def deliver_after(pack: Pack, person: Person, *, now: datetime, urgent: bool) -> datetime:
    """When a message to `person` may go: now, or the end of their quiet hours (unless urgent)."""
    if urgent:
        return now
    settings = pack.meta.nudges
    ends = quiet_until(
        now,
        person.quiet_from or settings.quiet_from,
        person.quiet_until or settings.quiet_until,
        timezone=pack.meta.timezone,
    )
    return ends or now


def queue(
    pack: Pack,
    *,
    session: Session,
    kind: str,
    recipient: Person,
    slot: datetime,
    payload: dict[str, Any],
    now: datetime,
    case: Case | None = None,
    point: PlanPoint | None = None,
    urgent: bool = False,
    key: str | None = None,
) -> bool:
    """Queue one message; returns False if the same one is already queued.

    The default key is (kind, point or case, slot, recipient); pass `key` for messages that are
    not about a point's slot (a decision, a day's digest).
    """
    subject = f"p{point.id}" if point is not None else f"c{case.id}" if case is not None else "-"
    return enqueue(
        session=session,
        kind=kind,
        dedupe_key=key or f"{kind}:{subject}:{slot.isoformat()}:{recipient.id}",
        recipient_id=recipient.id,
        due_slot=slot,
        payload=payload,
        now=now,
        not_before=deliver_after(pack, recipient, now=now, urgent=urgent),
        point_id=point.id if point is not None else None,
        case_id=case.id if case is not None else point.case_id if point is not None else None,
    )


def senior_leaders(*, session: Session, area: str) -> list[Person]:
    """Who escalations for `area` go to: its senior leadership team, else the force's Op Hampshire SPOC."""
    return people_with_role(session=session, role="slt", area=area) or people_with_role(
        session=session, role="spoc"
    )
