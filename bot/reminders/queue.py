"""Queueing messages to people: quiet hours applied, one row per (kind, point, slot, recipient)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from dialogs.clock import quiet_until
from dialogs.schema import Pack
from store.models import Person
from store.outbox import enqueue, outbox_row
from store.people import people_with_role

__all__ = ["Recipient", "deliver_after", "message", "queue", "senior_leaders"]


class Recipient(Protocol):
    """Whom a message is for (a `Person`, or the sweep's lighter record of one)."""

    @property
    def id(self) -> int: ...
    @property
    def quiet_from(self) -> str | None: ...
    @property
    def quiet_until(self) -> str | None: ...


def deliver_after(pack: Pack, person: Recipient, *, now: datetime, urgent: bool) -> datetime:
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


def message(
    pack: Pack,
    *,
    kind: str,
    recipient: Recipient,
    slot: datetime,
    payload: dict[str, Any],
    now: datetime,
    case_id: int | None = None,
    point_id: int | None = None,
    subject: str | None = None,
    urgent: bool = False,
    key: str | None = None,
) -> dict[str, Any]:
    """One outbox row for `recipient`, held until their quiet hours end unless `urgent`.

    The default key is (kind, point or case, slot, recipient); pass `key` for messages that are
    not about a point's slot (a decision, a day's digest).
    """
    subject = subject or (f"p{point_id}" if point_id else f"c{case_id}" if case_id else "-")
    return outbox_row(
        kind=kind,
        dedupe_key=key or f"{kind}:{subject}:{slot.isoformat()}:{recipient.id}",
        recipient_id=recipient.id,
        due_slot=slot,
        payload=payload,
        now=now,
        not_before=deliver_after(pack, recipient, now=now, urgent=urgent),
        point_id=point_id,
        case_id=case_id,
    )


def queue(pack: Pack, *, session: Session, **message_args: Any) -> bool:
    """Queue one message now (see `message`); False if the same one is queued already."""
    return enqueue(session=session, rows=[message(pack, **message_args)]) == 1


def senior_leaders(*, session: Session, area: str) -> list[Person]:
    """Who escalations for `area` go to: its senior leadership team, else the force's Op Hampshire SPOC."""
    return people_with_role(session=session, role="slt", area=area) or people_with_role(
        session=session, role="spoc"
    )
