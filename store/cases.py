"""Cases and their plan points: opening, need-to-know access, marking points, assigning the IO.

Access is need-to-know: a person sees a case only if they reported it, are its victim or
investigate it; every view and every refusal writes an audit row. Functions that change a case
write a `case_event` with ids and kinds only, never the answers given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import func, or_, select, true, update
from sqlalchemy.orm import Session, selectinload

from store.audit import record_access
from store.models import Case, CaseEvent, CaseReferenceCounter, CaseWitness, Person, PlanPoint, WelfareRecord

__all__ = [
    "CaseDraft",
    "NewPoint",
    "Relation",
    "WORKERS",
    "add_points",
    "assign_investigator",
    "cases_for",
    "find_case",
    "last_done",
    "mark_point",
    "open_case",
    "record_decision",
    "set_update_interval",
    "snooze_point",
    "relation",
    "victim_cases",
    "view_case",
]

Relation = Literal["reporter", "io", "victim", "slt"]
#: Who may work a case's points (mark them, snooze them, record decisions).
WORKERS: tuple[Relation, ...] = ("reporter", "io", "slt")


class NewPoint(Protocol):
    """A plan point to create (`dialogs.plan.PlannedPoint` is one)."""

    @property
    def code(self) -> str: ...
    @property
    def instance(self) -> int: ...
    @property
    def owner(self) -> str: ...
    @property
    def due_at(self) -> datetime: ...
    @property
    def urgent(self) -> bool: ...


@dataclass(frozen=True)
class CaseDraft:
    """What a confirmed report says, ready to store."""

    victim_email: str
    victim_role: str
    occurred_at: datetime
    location: str
    area: str
    kind: str
    hate_crime: bool
    hate_strand: str | None
    enhanced_rights: bool
    injury_level: str
    injury_detail: str | None
    medical_care: str | None
    hospitalised: bool
    suspect_arrested: str
    crime_reference: str | None
    colleagues_present: Sequence[str]
    consent_contact: bool
    welfare_how: str
    welfare_support: str
    welfare_handover: str


def _event(
    session: Session, case: Case, kind: str, actor: Person | None, now: datetime, **detail: object
) -> None:
    session.add(
        CaseEvent(case_id=case.id, at=now, actor_id=actor.id if actor else None, kind=kind, detail=detail)
    )


def next_reference(*, session: Session, year: int) -> str:
    """Issue the next case reference of `year` ("OH-2026-0042"), under a row lock."""
    bumped = session.execute(
        update(CaseReferenceCounter)
        .where(CaseReferenceCounter.year == year)
        .values(last=CaseReferenceCounter.last + 1)
        .returning(CaseReferenceCounter.last)
    ).scalar()
    if bumped is None:
        session.add(CaseReferenceCounter(year=year, last=1))
        session.flush()
        bumped = 1
    return f"OH-{year}-{bumped:04d}"


def find_case(*, session: Session, reference: str) -> Case | None:
    """The case with this reference (exact, case-insensitive), with its people and points loaded."""
    return session.scalar(
        select(Case)
        .where(Case.reference == reference.strip().upper())
        .options(selectinload(Case.points), selectinload(Case.witnesses))
    )


def open_case(
    *,
    session: Session,
    draft: CaseDraft,
    reporter: Person,
    victim: Person,
    witnesses: Iterable[Person],
    points: Iterable[NewPoint],
    submission_key: str,
    surface: str,
    now: datetime,
) -> tuple[Case, bool]:
    """Open a case with its welfare record and plan points; return it and whether it is new.

    A second submission with the same `submission_key` (a double-clicked confirmation) returns the
    case the first one opened instead of opening another.
    """
    existing = session.scalar(select(Case).where(Case.submission_key == submission_key))
    if existing is not None:
        return existing, False
    case = Case(
        reference=next_reference(session=session, year=now.year),
        submission_key=submission_key,
        kind=draft.kind,
        hate_crime=draft.hate_crime,
        hate_strand=draft.hate_strand,
        enhanced_rights=draft.enhanced_rights,
        occurred_at=draft.occurred_at,
        reported_at=now,
        location=draft.location,
        area=draft.area,
        injury_level=draft.injury_level,
        injury_detail=draft.injury_detail,
        medical_care=draft.medical_care,
        hospitalised=draft.hospitalised,
        suspect_arrested=draft.suspect_arrested,
        crime_reference=draft.crime_reference,
        victim_id=victim.id,
        victim_role=draft.victim_role,
        reporter_id=reporter.id,
        consent_contact=draft.consent_contact,
        status="open",
        # Built with the case so that one flush writes them and the caller can list the points
        # without reading them back.
        witnesses=[CaseWitness(person_id=w.id) for w in {w.id: w for w in witnesses}.values()],
        points=[
            PlanPoint(
                code=point.code,
                instance=point.instance,
                owner_role=point.owner,
                owner_id=reporter.id if point.owner == "supervisor" else None,
                owner=reporter if point.owner == "supervisor" else None,
                due_at=point.due_at,
                remind_at=point.due_at,
                next_nudge_at=point.due_at,
                urgent=point.urgent,
                status="open",
            )
            for point in sorted(points, key=lambda p: p.due_at)
        ],
    )
    session.add(case)
    session.flush()
    session.add(
        WelfareRecord(
            case_id=case.id,
            how_they_are=draft.welfare_how,
            support_needed=draft.welfare_support,
            duties_handover=draft.welfare_handover,
            recorded_by_id=reporter.id,
            recorded_at=now,
        )
    )
    _event(session, case, "created", reporter, now)
    record_access(session=session, person=reporter, case=case, surface=surface, action="create", now=now)
    session.flush()
    return case, True


def relation(case: Case, person: Person) -> Relation | None:
    """How `person` is entitled to see `case`, or None when they are not.

    The senior leadership team of the case's area (or force-wide) sees it too: they are told of
    each case (point 7) and review it (Op Hampshire).
    """
    if case.reporter_id == person.id:
        return "reporter"
    if case.io_id == person.id:
        return "io"
    if case.victim_id == person.id:
        return "victim"
    if any(r.role == "slt" and r.area in (None, case.area) for r in person.roles):
        return "slt"
    return None


def cases_for(*, session: Session, person: Person, limit: int = 20) -> list[Case]:
    """Open cases the person reported, investigates or leads (senior leadership), most recent first."""
    mine = or_(Case.reporter_id == person.id, Case.io_id == person.id)
    areas = [r.area for r in person.roles if r.role == "slt"]
    if None in areas:
        mine = true()
    elif areas:
        mine = or_(mine, Case.area.in_(areas))
    return list(
        session.scalars(
            select(Case)
            .where(Case.status == "open", mine)
            .options(selectinload(Case.points))
            .order_by(Case.reported_at.desc(), Case.id.desc())
            .limit(limit)
        )
    )


def victim_cases(*, session: Session, person: Person) -> list[Case]:
    """Cases the person is the victim of, most recent first."""
    return list(
        session.scalars(
            select(Case)
            .where(Case.victim_id == person.id)
            .options(selectinload(Case.points))
            .order_by(Case.reported_at.desc(), Case.id.desc())
        )
    )


def view_case(
    *,
    session: Session,
    person: Person,
    reference: str,
    surface: str,
    now: datetime,
    allowed: Sequence[Relation] = WORKERS,
) -> tuple[Case | None, Literal["ok", "denied", "not_found"]]:
    """Open a case for `person` if their relation to it is `allowed`; audit the view or refusal."""
    case = find_case(session=session, reference=reference)
    if case is None:
        return None, "not_found"
    if relation(case, person) not in allowed:
        record_access(session=session, person=person, case=case, surface=surface, action="denied", now=now)
        return None, "denied"
    record_access(session=session, person=person, case=case, surface=surface, action="view", now=now)
    return case, "ok"


def _open_point(
    session: Session, person: Person, case: Case, point_id: int, *, now: datetime, surface: str
) -> PlanPoint | Literal["already", "denied", "not_found"]:
    """The open point `person` may work on, or why not (a refusal is audited)."""
    if relation(case, person) not in WORKERS:
        record_access(session=session, person=person, case=case, surface=surface, action="denied", now=now)
        return "denied"
    point = session.get(PlanPoint, point_id)
    if point is None or point.case_id != case.id:
        return "not_found"
    return point if point.status == "open" else "already"


def mark_point(
    *,
    session: Session,
    person: Person,
    case: Case,
    point_id: int,
    status: Literal["done", "not_applicable"],
    now: datetime,
    surface: str,
    reason: str | None = None,
) -> Literal["done", "already", "denied", "not_found"]:
    """Close a plan point as done or not applicable (with a reason) on behalf of `person`."""
    point = _open_point(session, person, case, point_id, now=now, surface=surface)
    if isinstance(point, str):
        return point
    point.status = status
    point.done_at = now
    point.done_by_id = person.id
    point.na_reason = reason
    point.next_nudge_at = None
    _event(session, case, f"point_{status}", person, now, point=point.code, instance=point.instance)
    record_access(session=session, person=person, case=case, surface=surface, action="update", now=now)
    session.flush()
    return "done"


def assign_investigator(
    *,
    session: Session,
    actor: Person,
    case: Case,
    investigator: Person,
    now: datetime,
    surface: str,
) -> Literal["assigned", "conflict_victim", "conflict_present", "denied"]:
    """Make `investigator` the case's IO, refusing the victim and anyone who was present (point 2).

    Only the reporting supervisor assigns. The IO's outstanding points become theirs.
    """
    if relation(case, actor) != "reporter":
        record_access(session=session, person=actor, case=case, surface=surface, action="denied", now=now)
        return "denied"
    if investigator.id == case.victim_id:
        return "conflict_victim"
    if any(w.person_id == investigator.id for w in case.witnesses):
        return "conflict_present"
    case.io_id = investigator.id
    for point in case.points:
        if point.owner_role == "io" and point.status == "open":
            point.owner_id = investigator.id
    _event(session, case, "investigator_assigned", actor, now, investigator=investigator.id)
    record_access(session=session, person=actor, case=case, surface=surface, action="update", now=now)
    session.flush()
    return "assigned"


def _owner(case: Case, role: str) -> Person | None:
    if role == "supervisor":
        return case.reporter
    if role == "io":
        return case.io
    return None


def add_points(*, session: Session, case: Case, points: Iterable[NewPoint]) -> list[PlanPoint]:
    """Add plan points to an open case (after a decision, or the next of a recurring point).

    Each continues its code's numbering (instance 2, 3, …) and goes to the role's current holder.
    """
    added = []
    for point in points:
        last = session.scalar(
            select(func.max(PlanPoint.instance)).where(
                PlanPoint.case_id == case.id, PlanPoint.code == point.code
            )
        )
        owner = _owner(case, point.owner)
        row = PlanPoint(
            case_id=case.id,
            code=point.code,
            instance=(last or 0) + 1,
            owner_role=point.owner,
            owner_id=owner.id if owner else None,
            owner=owner,
            due_at=point.due_at,
            remind_at=point.due_at,
            next_nudge_at=point.due_at,
            urgent=point.urgent,
            status="open",
        )
        session.add(row)
        session.flush()  # numbering the next point of the same code needs this one written
        added.append(row)
    return added


def snooze_point(
    *,
    session: Session,
    person: Person,
    case: Case,
    point_id: int,
    until: datetime,
    now: datetime,
    surface: str,
) -> Literal["snoozed", "already", "denied", "not_found"]:
    """Put off the next reminder of a point until `until` (its escalation still runs on time)."""
    point = _open_point(session, person, case, point_id, now=now, surface=surface)
    if isinstance(point, str):
        return point
    point.remind_at = until
    # Wake at the new reminder, or earlier if an escalation is still pending before it.
    if point.next_nudge_at is None or point.next_nudge_at <= now or point.next_nudge_at > until:
        point.next_nudge_at = until
    _event(session, case, "point_snoozed", person, now, point=point.code, instance=point.instance)
    return "snoozed"


def record_decision(
    *,
    session: Session,
    person: Person,
    case: Case,
    decision: str,
    decided_at: datetime,
    review_until: datetime | None,
    now: datetime,
    surface: str,
) -> Literal["recorded", "denied"]:
    """Record a key decision on the case's timeline (the caller adds the points it starts)."""
    if relation(case, person) not in ("reporter", "io"):
        record_access(session=session, person=person, case=case, surface=surface, action="denied", now=now)
        return "denied"
    if decision == "arrest":
        case.suspect_arrested = "yes"
    if review_until is not None:
        case.review_until = review_until
    _event(
        session, case, "decision_recorded", person, now, decision=decision, decided_at=decided_at.isoformat()
    )
    record_access(session=session, person=person, case=case, surface=surface, action="update", now=now)
    return "recorded"


def set_update_interval(
    *, session: Session, person: Person, case: Case, days: int, now: datetime, surface: str
) -> Literal["set", "denied"]:
    """Record the update interval agreed with the victim (the caller reschedules the next update)."""
    if relation(case, person) not in ("reporter", "io"):
        record_access(session=session, person=person, case=case, surface=surface, action="denied", now=now)
        return "denied"
    case.update_interval_days = days
    _event(session, case, "update_interval_set", person, now, days=days)
    return "set"


def last_done(case: Case, code: str) -> datetime | None:
    """When a point of `code` was last closed on this case."""
    return max((p.done_at for p in case.points if p.code == code and p.done_at), default=None)
