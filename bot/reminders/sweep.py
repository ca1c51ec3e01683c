"""The sweep: find what is due, queue the nudges, escalations and digests, advance the clocks.

One sweep is one transaction per batch: the points it acts on are locked, the outbox rows are
written and the points' next wake-up times are moved on together, so a crash leaves either all of
it or none. Its cost grows with what is due (an index on status and wake-up time), not with the
number of points that exist; it works on plain rows and writes in bulk, because a force's
backlog after an outage can be thousands of points. After downtime, the first sweep finds
everything that fell due and queues it once, oldest first; the owner is not sent a burst of
catch-up reminders.

What it queues is grouped: one reminder per case and recipient (its due and overdue points, each
with its own buttons), one escalation per recipient per sweep (the overdue points of each case:
a later batch of the same sweep adds to the escalation an earlier one queued, and past
`ESCALATION_LINES` the rest are counted, not listed, so a backlog of thousands is one message),
one digest per senior leader a day. Nobody is escalated to about a point they own themselves.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot import messages
from bot.cases.points import Retire, change_point, clock_of, escalation_at
from bot.cases.points import Sweep as PointSweep
from bot.reminders.queue import message, queue, senior_leaders
from bot.reminders.recipients import reminded
from dialogs.clock import local_time_today
from dialogs.notices import payload_cases
from dialogs.schema import Pack
from store.models import Case, Nudge, Person, PersonRole, PlanPoint
from store.outbox import due_points, enqueue, queued_since
from store.people import people_with_role

__all__ = ["SweepReport", "run_sweep", "sweep_batch"]

log = logging.getLogger(__name__)

#: A row of plan_point, case or person columns, read by name.
_Row = Row[*tuple[Any, ...]]

#: Points handled per transaction.
BATCH = 1000
#: Overdue points listed in one digest.
DIGEST_LINES = 100
#: Overdue points listed in one escalation; it counts the rest.
ESCALATION_LINES = DIGEST_LINES
#: Points one reminder lists, so that it fits one Slack message (50 blocks) and one Teams card:
#: a reminder split over several messages could only be updated in place in its first.
REMINDER_POINTS = 20


@dataclass
class SweepReport:
    """What one sweep did.

    `escalated` counts the overdue points escalated to someone; those with nobody to hear of them
    (no senior leadership team for the case's area and no SPOC, other than the points' owners)
    are counted by area in `unescalated`, and due points nobody could be reminded of in
    `unreminded`.
    """

    points: int = 0
    queued: int = 0
    escalated: int = 0
    digests: int = 0
    unreminded: Counter[str] = field(default_factory=Counter)
    unescalated: Counter[str] = field(default_factory=Counter)

    def add(self, other: SweepReport) -> None:
        self.points += other.points
        self.queued += other.queued
        self.escalated += other.escalated
        self.digests += other.digests
        self.unreminded.update(other.unreminded)
        self.unescalated.update(other.unescalated)


@dataclass(frozen=True)
class _Person:
    """The little the sweep needs of a person: who, what to call them, when they are quiet."""

    id: int
    name: str
    quiet_from: str | None
    quiet_until: str | None


def _person(person: Person) -> _Person:
    return _Person(person.id, person.name, person.quiet_from, person.quiet_until)


@dataclass
class _Message:
    """One grouped message being built: who gets it, about which points, and how soon."""

    kind: str
    recipient: _Person
    case_id: int | None = None
    slot: datetime | None = None
    urgent: bool = False
    cases: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: Points past `lines`, counted but not listed.
    more: int = 0
    lines: int | None = None

    def add(self, case: _Row, entry: dict[str, Any], slot: datetime, urgent: bool) -> None:
        self.slot = slot if self.slot is None else min(self.slot, slot)
        self.urgent = self.urgent or urgent
        if self.lines is not None and self.size() >= self.lines:
            self.more += 1
            return
        group = self.cases.setdefault(case.id, {"reference": case.reference, "points": []})
        group["points"].append(entry)

    def payload(self) -> dict[str, Any]:
        """What the outbox row carries: the points listed, by case, and how many more there are."""
        payload: dict[str, Any] = {"cases": list(self.cases.values())}
        if self.more:
            payload["more"] = self.more
        return payload

    def merge_into(self, row: Nudge, now: datetime) -> None:
        """Add this message's points to `row`, queued earlier in the same sweep for the same person."""
        cases = {case["reference"]: dict(case) for case in payload_cases(row.payload)}
        listed = sum(len(case["points"]) for case in cases.values())
        more = int(row.payload.get("more", 0)) + self.more
        for group in self.cases.values():
            room = max(0, (self.lines or listed + len(group["points"])) - listed)
            taken = group["points"][:room]
            if taken:
                case = cases.setdefault(group["reference"], {"reference": group["reference"], "points": []})
                case["points"] = [*case["points"], *taken]
                listed += len(taken)
            more += len(group["points"]) - len(taken)
        row.payload = {"cases": list(cases.values()), **({"more": more} if more else {})}
        assert self.slot is not None
        row.due_slot = min(row.due_slot, self.slot)
        if self.urgent:
            row.urgent, row.not_before = True, min(row.not_before, now)

    def size(self) -> int:
        """How many points the message lists."""
        return sum(len(group["points"]) for group in self.cases.values())

    def key(self) -> str:
        """Unique per kind, recipient and set of (point, slot): a sweep that runs again adds nothing."""
        assert self.slot is not None
        points = sorted((p["point"], p["slot"]) for g in self.cases.values() for p in g["points"])
        digest = hashlib.sha256(repr(points).encode()).hexdigest()[:16]
        subject = f"c{self.case_id}" if self.case_id is not None else "all"
        return f"{self.kind}:{subject}:{self.slot.isoformat()}:{self.recipient.id}:{digest}"


class _Sweep:
    def __init__(self, pack: Pack, session: Session, now: datetime) -> None:
        self.pack = pack
        self.session = session
        self.now = now
        self.specs = {spec.code: spec for spec in pack.plan.points}
        self.leaders: dict[str, list[_Person]] = {}
        self.spocs: list[_Person] | None = None
        # One reminder per (case, recipient, urgency) and one escalation per recipient, per sweep;
        # `reminders` holds the one being filled, `messages` every reminder built.
        self.reminders: dict[tuple[int, int, bool], _Message] = {}
        self.messages: list[_Message] = []
        self.escalations: dict[int, _Message] = {}
        self.updates: list[dict[str, Any]] = []
        self.report = SweepReport()

    def load(self, points: list[_Row]) -> None:
        """Read the cases and people the due points need, in two queries."""
        case_ids = {p.case_id for p in points}
        self.cases = {
            c.id: c
            for c in self.session.execute(
                select(
                    Case.id,
                    Case.reference,
                    Case.area,
                    Case.reporter_id,
                    Case.victim_role,
                    Case.association,
                    Case.consent_association,
                    Case.consent_contact,
                ).where(Case.id.in_(case_ids))
            )
        }
        person_ids = {p.owner_id for p in points if p.owner_id} | {c.reporter_id for c in self.cases.values()}
        self.people = {
            p.id: _person(p) for p in self.session.scalars(select(Person).where(Person.id.in_(person_ids)))
        }

    def leaders_of(self, area: str) -> list[_Person]:
        if area not in self.leaders:
            self.leaders[area] = [_person(p) for p in senior_leaders(session=self.session, area=area)]
        return self.leaders[area]

    def spoc(self) -> list[_Person]:
        if self.spocs is None:
            self.spocs = [_person(p) for p in people_with_role(session=self.session, role="spoc")]
        return self.spocs

    def recipients(self, point: _Row, case: _Row) -> tuple[bool, list[_Person]]:
        """Who is reminded of a point (the pack's owner roles), and whether they must first assign someone."""
        kind, holder = reminded(self.pack, owner_role=point.owner_role, owner_id=point.owner_id)
        if holder == "owner" and point.owner_id is not None:
            return False, [self.people[point.owner_id]]
        if holder == "area_leaders":
            return kind == "unassigned", self.leaders_of(case.area)
        if holder == "investigator":  # nobody yet, and the role names nobody to assign one
            return False, []
        return kind == "unassigned", [self.people[case.reporter_id]]

    def escalated_to(self, point: _Row, case: _Row) -> list[_Person]:
        """Who hears that a point is overdue: never someone who owns it themselves.

        The area's leadership (else the force's SPOC); for a point the leadership owns, the SPOC
        unless they own it too; else nobody.
        """
        _, owners = self.recipients(point, case)
        owning = {p.id for p in owners}
        for candidates in (self.leaders_of(case.area), self.spoc()):
            chosen = [p for p in candidates if p.id not in owning]
            if chosen:
                return chosen
        return []

    def entry(self, point: _Row, slot: datetime, **extra: Any) -> dict[str, Any]:
        """A point as a message lists it: ids and times only, never an account of the incident."""
        return {
            "point": point.id,
            "code": point.code,
            "instance": point.instance,
            "due": point.due_at.isoformat(),
            "slot": slot.isoformat(),
            "urgent": point.urgent,
            **extra,
        }

    def about(self, point: _Row, case: _Row) -> dict[str, Any]:
        """What a point's guidance needs of its case (points 9 and 10: `guide` in plan.yaml)."""
        spec = self.specs.get(point.code)
        if spec is None or spec.guide is None:
            return {}
        return {
            "about": {
                "victim_role": case.victim_role,
                "association": case.association,
                "consent_association": case.consent_association,
                "consent_contact": case.consent_contact,
            }
        }

    def remind(self, point: _Row, case: _Row, slot: datetime) -> None:
        unassigned, people = self.recipients(point, case)
        if not people:
            self.report.unreminded[case.area] += 1
            log.debug(messages.sweep_nobody("nudge", point.id, point.case_id))
        entry = self.entry(point, slot, unassigned=unassigned, **self.about(point, case))
        for person in people:
            key = (case.id, person.id, point.urgent)
            group = self.reminders.get(key)
            if group is None or group.size() >= REMINDER_POINTS:
                group = self.reminders[key] = _Message("nudge", person, case.id)
                self.messages.append(group)
            group.add(case, entry, slot, point.urgent)

    def escalate(self, point: _Row, case: _Row, slot: datetime) -> None:
        people = self.escalated_to(point, case)
        if not people:
            # Its escalation time has passed all the same: a leader added later hears of it in
            # their daily digest, not in a burst of late escalations.
            self.report.unescalated[case.area] += 1
            log.debug(messages.sweep_nobody("escalation", point.id, point.case_id))
            return
        self.report.escalated += 1
        owner = self.people[point.owner_id].name if point.owner_id else None
        entry = self.entry(point, slot, owner=point.owner_role, owner_name=owner)
        for person in people:
            group = self.escalations.get(person.id)
            if group is None:
                group = self.escalations[person.id] = _Message("escalation", person, lines=ESCALATION_LINES)
            group.add(case, entry, slot, point.urgent)

    def point(self, point: _Row) -> None:
        spec = self.specs.get(point.code)
        if spec is None:  # the pack no longer has this point: stop waking it, keep the record
            self.updates.append(
                {"id": point.id, **change_point(clock_of(point, None), Retire(), now=self.now)}
            )
            return
        case, clock = self.cases[point.case_id], clock_of(point, spec)
        change = change_point(clock, PointSweep(), now=self.now)
        self.updates.append({"id": point.id, **change})
        if "last_nudged_at" in change:
            self.remind(point, case, point.remind_at)
        escalate_at = escalation_at(clock)
        if "escalated_at" in change and escalate_at is not None:
            self.escalate(point, case, escalate_at)
        self.report.points += 1

    def unmerged_escalations(self) -> list[_Message]:
        """The escalations to people this sweep has not yet queued one for; the others are added to
        the one an earlier batch queued (unless delivery has taken it already)."""
        queued = queued_since(
            session=self.session, kind="escalation", recipient_ids=list(self.escalations), since=self.now
        )
        earlier = {row.recipient_id: row for row in queued}
        fresh = []
        for person_id, group in self.escalations.items():
            row = earlier.get(person_id)
            if row is None:
                fresh.append(group)
            else:
                group.merge_into(row, self.now)
        return fresh

    def rows(self) -> list[dict[str, Any]]:
        """The outbox rows of this sweep's grouped messages."""
        rows = []
        for group in [*self.messages, *self.unmerged_escalations()]:
            assert group.slot is not None
            payload = group.payload()
            rows.append(
                message(
                    self.pack,
                    kind=group.kind,
                    recipient=group.recipient,
                    slot=group.slot,
                    payload=payload,
                    now=self.now,
                    case_id=group.case_id,
                    urgent=group.urgent,
                    key=group.key(),
                )
            )
        return rows

    def write(self) -> None:
        """Queue every message and move every point's clocks on, in bulk."""
        self.report.queued += enqueue(session=self.session, rows=self.rows())
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for change in self.updates:
            by_columns.setdefault(tuple(sorted(change)), []).append(change)
        table = cast(Table, PlanPoint.__table__)
        for columns, rows in by_columns.items():
            # A Core executemany: the ORM's bulk update by primary key costs twice as much per row.
            statement = (
                update(table)
                .where(table.c.id == bindparam("point_id"))
                .values({column: bindparam(column) for column in columns if column != "id"})
            )
            self.session.execute(statement, [{"point_id": row["id"], **row} for row in rows])

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
            # Oldest cases first, by id (the order references are issued in): the index on
            # (status, case_id, due_at) then yields the first lines without sorting every overdue point.
            query = (
                select(PlanPoint, Case.reference)
                .join(Case, PlanPoint.case_id == Case.id)
                .where(PlanPoint.status == "open", PlanPoint.due_at < self.now)
                .order_by(PlanPoint.case_id, PlanPoint.due_at)
                .limit(DIGEST_LINES)
            )
            if None not in person_areas:
                query = query.where(Case.area.in_([a for a in person_areas if a]))
            cases: dict[str, dict[str, Any]] = {}
            for p, reference in self.session.execute(query):
                group = cases.setdefault(reference, {"reference": reference, "points": []})
                group["points"].append(
                    {"point": p.id, "code": p.code, "instance": p.instance, "due": p.due_at.isoformat()}
                )
            if cases and queue(
                self.pack, session=self.session, kind="digest", recipient=people[person_id],
                slot=digest_at, payload={"cases": list(cases.values())}, now=self.now, key=key,
            ):  # fmt: skip
                self.report.digests += 1


def sweep_batch(pack: Pack, *, session: Session, now: datetime, batch: int = BATCH) -> SweepReport:
    """Act on up to `batch` due points (and the daily digests) in the caller's transaction."""
    work = _Sweep(pack, session, now)
    points = due_points(session=session, now=now, limit=batch)
    if points:
        work.load(points)
        for point in points:
            work.point(point)
        work.write()
    work.digests()
    return work.report


def run_sweep(
    pack: Pack, *, sessions: sessionmaker[Session], now: datetime, batch: int = BATCH
) -> SweepReport:
    """Sweep until nothing more is due, one transaction per batch.

    What could be sent to nobody is logged once for the whole sweep, one line each for reminders
    and escalations, saying who to add.
    """
    total = SweepReport()
    while True:
        with sessions.begin() as session:
            report = sweep_batch(pack, session=session, now=now, batch=batch)
        total.add(report)
        if report.points < batch:
            break
    if total.unreminded:
        log.warning(messages.sweep_not_reminded(total.unreminded))
    if total.unescalated:
        log.warning(messages.sweep_not_escalated(total.unescalated))
    return total
