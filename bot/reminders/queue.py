"""Queueing messages to people (quiet hours applied, each queued once), and withdrawing them.

A queued reminder, escalation or digest lists points; one whose points have all closed before it
is sent is withdrawn (recorded as such, never sent).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import messages
from dialogs.clock import quiet_until
from dialogs.notices import payload_cases, payload_points
from dialogs.schema import Pack
from store.models import Nudge, Person, PlanPoint
from store.outbox import enqueue, outbox_row, pending_about
from store.people import people_with_role

__all__ = [
    "Recipient",
    "deliver_after",
    "message",
    "open_points_only",
    "queue",
    "senior_leaders",
    "withdraw",
    "withdraw_settled",
]

log = logging.getLogger(__name__)


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
        urgent=urgent,
    )


def queue(pack: Pack, *, session: Session, **message_args: Any) -> bool:
    """Queue one message now (see `message`); False if the same one is queued already."""
    return enqueue(session=session, rows=[message(pack, **message_args)]) == 1


def senior_leaders(*, session: Session, area: str) -> list[Person]:
    """Who escalations for `area` go to: its senior leadership team, else the force's Op Hampshire SPOC."""
    return people_with_role(session=session, role="slt", area=area) or people_with_role(
        session=session, role="spoc"
    )


def open_points_only(session: Session, rows: Sequence[Nudge]) -> dict[int, dict[str, Any] | None]:
    """Each grouped row's payload as it stands (None: nothing left), read in one query.

    Left out: closed points; "please assign someone" lines once someone is assigned; and, in a
    reminder, points that now belong to someone else (an IO replaced). Rows that list no points
    (a notice to the victim, the SLT's new-case notice) are left out.
    """
    listed = {row.id: payload_points(row.payload) for row in rows}
    wanted = {point for points in listed.values() for point in points}
    if not wanted:
        return {}
    query = select(PlanPoint.id, PlanPoint.owner_id).where(
        PlanPoint.id.in_(wanted), PlanPoint.status == "open"
    )
    owners: dict[int, int | None] = {point_id: owner_id for point_id, owner_id in session.execute(query)}

    def current(point: dict[str, Any], row: Nudge) -> bool:
        point_id = int(point.get("point", 0))
        if point_id not in owners:
            return False
        owner = owners[point_id]
        if point.get("unassigned"):
            return owner is None
        return row.kind != "nudge" or owner is None or owner == row.recipient_id

    payloads: dict[int, dict[str, Any] | None] = {}
    for row in rows:
        if not listed[row.id]:
            continue
        cases = [
            {**case, "points": [p for p in case["points"] if current(p, row)]}
            for case in payload_cases(row.payload)
        ]
        cases = [case for case in cases if case["points"]]
        payloads[row.id] = {**row.payload, "cases": cases} if cases else None
    return payloads


def withdraw(row: Nudge) -> None:
    """Record that `row` will not be sent: none of the points it listed is still the recipient's to do."""
    row.status, row.claimed_by, row.claimed_until = "withdrawn", None, None
    log.info(messages.delivery_withdrawn(row.id))


def withdraw_settled(*, session: Session, case_id: int) -> int:
    """Withdraw a case's queued reminders whose points have all closed (call when a point closes).

    Returns how many were withdrawn. A reminder that still lists an open point stays queued;
    delivery leaves the closed ones out when it sends.
    """
    rows = pending_about(session=session, case_id=case_id)
    current = open_points_only(session, rows)
    settled = [row for row in rows if row.id in current and current[row.id] is None]
    for row in settled:
        withdraw(row)
    return len(settled)
