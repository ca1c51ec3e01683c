"""The sweep: find what is due, queue the nudges, escalations and digests, advance the clocks.

One sweep is one transaction per batch: the points it acts on are locked, the outbox rows are
written and the points' next wake-up times are moved on together, so a crash leaves either all of
it or none. Its cost grows with what is due (an index on status and wake-up time), not with the
number of points that exist. After downtime, the first sweep finds everything that fell due and
queues it once, oldest first; the owner is not sent a burst of catch-up reminders.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from bot.notify import queue, senior_leaders
from dialogs.clock import local_time_today
from dialogs.schema import Pack, PointSpec
from store.models import Case, Nudge, Person, PersonRole, PlanPoint
from store.outbox import due_points

__all__ = ["SweepReport", "run_sweep", "sweep_batch"]

log = logging.getLogger(__name__)

#: Points handled per transaction.
BATCH = 500
#: Overdue points listed in one digest.
DIGEST_LINES = 100


@dataclass
class SweepReport:
    """What one sweep did."""

    points: int = 0
    queued: int = 0
    escalated: int = 0
    digests: int = 0
    unreachable: list[int] = field(default_factory=list)

    def add(self, other: SweepReport) -> None:
        self.points += other.points
        self.queued += other.queued
        self.escalated += other.escalated
        self.digests += other.digests
        self.unreachable += other.unreachable


def _escalate_at(point: PlanPoint, spec: PointSpec) -> datetime | None:
    if spec.escalate_after_hours is None or point.escalated_at is not None:
        return None
    return point.due_at + timedelta(hours=spec.escalate_after_hours)


def _payload(point: PlanPoint, case: Case) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "point": point.id,
        "code": point.code,
        "instance": point.instance,
        "due": point.due_at.isoformat(),
        "owner": point.owner_role,
        "owner_name": point.owner.name if point.owner else None,
        "urgent": point.urgent,
    }


class _Sweep:
    def __init__(self, pack: Pack, session: Session, now: datetime) -> None:
        self.pack = pack
        self.session = session
        self.now = now
        self.specs = {spec.code: spec for spec in pack.plan.points}
        self.leaders: dict[str, list[Person]] = {}
        self.report = SweepReport()

    def leaders_of(self, area: str) -> list[Person]:
        if area not in self.leaders:
            self.leaders[area] = senior_leaders(session=self.session, area=area)
        return self.leaders[area]

    def recipients(self, point: PlanPoint, case: Case) -> tuple[str, list[Person]]:
        """Who is reminded of a point, and with which kind of message."""
        if point.owner is not None:
            return "nudge", [point.owner]
        if point.owner_role == "slt":
            return "nudge", self.leaders_of(case.area)
        if point.owner_role == "io":
            return "unassigned", [case.reporter]  # the supervisor must assign someone first
        return "nudge", [case.reporter]

    def send(self, kind: str, people: list[Person], point: PlanPoint, case: Case, slot: datetime) -> None:
        if not people:
            self.report.unreachable.append(point.id)
            log.warning("no one to send %s for point %d of case %d to", kind, point.id, case.id)
        for person in people:
            self.report.queued += queue(
                self.pack,
                session=self.session,
                kind=kind,
                recipient=person,
                slot=slot,
                payload=_payload(point, case),
                now=self.now,
                point=point,
                urgent=point.urgent,
            )

    def point(self, point: PlanPoint) -> None:
        spec = self.specs.get(point.code)
        if spec is None:  # the pack no longer has this point: stop waking it, keep the record
            point.next_nudge_at = None
            return
        case, now = point.case, self.now
        if point.remind_at is not None and point.remind_at <= now:
            kind, people = self.recipients(point, case)
            self.send(kind, people, point, case, point.remind_at)
            point.nudge_count += 1
            point.last_nudged_at = now
            point.remind_at = now + timedelta(hours=spec.nudge_every_hours)
        escalate_at = _escalate_at(point, spec)
        if escalate_at is not None and escalate_at <= now:
            self.send("escalation", self.leaders_of(case.area), point, case, escalate_at)
            point.escalated_at = now
            self.report.escalated += 1
            escalate_at = None
        wake = [moment for moment in (point.remind_at, escalate_at) if moment is not None]
        point.next_nudge_at = min(wake) if wake else None
        self.report.points += 1

    def digests(self) -> None:
        """Each senior leader's daily list of overdue points in their area, once a day after digest time."""
        settings, zone = self.pack.meta.nudges, self.pack.meta.timezone
        digest_at = local_time_today(self.now, settings.digest_time, timezone=zone)
        if self.now < digest_at:
            return
        rows = self.session.execute(
            select(Person, PersonRole.area).join(PersonRole).where(PersonRole.role == "slt")
        )
        areas: dict[int, set[str | None]] = {}
        people: dict[int, Person] = {}
        for person, area in rows:
            areas.setdefault(person.id, set()).add(area)
            people[person.id] = person
        for person_id, person_areas in areas.items():
            key = f"digest:{person_id}:{digest_at.isoformat()}"
            if self.session.scalar(select(exists().where(Nudge.dedupe_key == key))):
                continue
            query = (
                select(PlanPoint, Case.reference)
                .join(Case, PlanPoint.case_id == Case.id)
                .where(PlanPoint.status == "open", PlanPoint.due_at < self.now)
                .order_by(Case.reference, PlanPoint.due_at)
                .limit(DIGEST_LINES)
            )
            if None not in person_areas:
                query = query.where(Case.area.in_([a for a in person_areas if a]))
            lines = [
                {"reference": reference, "code": p.code, "instance": p.instance, "due": p.due_at.isoformat()}
                for p, reference in self.session.execute(query)
            ]
            if lines and queue(
                self.pack,
                session=self.session,
                kind="digest",
                recipient=people[person_id],
                slot=digest_at,
                payload={"points": lines},
                now=self.now,
                key=key,
            ):
                self.report.digests += 1


def sweep_batch(pack: Pack, *, session: Session, now: datetime, batch: int = BATCH) -> SweepReport:
    """Act on up to `batch` due points (and the daily digests) in the caller's transaction."""
    work = _Sweep(pack, session, now)
    for point in due_points(session=session, now=now, limit=batch):
        work.point(point)
    work.digests()
    session.flush()
    return work.report


def run_sweep(
    pack: Pack, *, sessions: sessionmaker[Session], now: datetime, batch: int = BATCH
) -> SweepReport:
    """Sweep until nothing more is due, one transaction per batch."""
    total = SweepReport()
    while True:
        with sessions.begin() as session:
            report = sweep_batch(pack, session=session, now=now, batch=batch)
        total.add(report)
        if report.points < batch:
            return total
