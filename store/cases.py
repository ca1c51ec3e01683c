"""Cases and their plan points: the queries and row writes of the case service (`bot.cases.service`).

Access is need-to-know: a person sees a case only if they reported it, are its victim or
investigate it (or lead its area); every view and every refusal writes an audit row. The timeline
(`case_event`) holds ids and kinds only, never the answers given. The plan's rules (who owns a
point, its clocks, what closes it) live in the service, not here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, or_, select, true, update
from sqlalchemy.orm import Session, selectinload

from store.audit import record_access, record_probe
from store.models import (
    Case,
    CaseEvent,
    CaseReferenceCounter,
    CaseWitness,
    Person,
    PlanPoint,
    VictimDisclosure,
    WelfareRecord,
)

__all__ = [
    "CaseDraft",
    "NewPoint",
    "Relation",
    "WORKERS",
    "add_event",
    "add_disclosure",
    "add_point",
    "cases_for",
    "claim_disclosure",
    "events_of",
    "find_case",
    "find_seen_case",
    "last_done",
    "leads_area",
    "next_instance",
    "next_reference",
    "open_case",
    "point_of",
    "previous_cases",
    "reads_welfare",
    "relation",
    "set_case_fields",
    "set_investigator",
    "victim_cases",
    "view_case",
    "welfare_of",
    "write_point",
]

Relation = Literal["reporter", "io", "victim", "slt", "welfare"]
#: Who may work a case's points (mark them, snooze them, record decisions).
WORKERS: tuple[Relation, ...] = ("reporter", "io", "slt")


@dataclass(frozen=True)
class NewPoint:
    """A plan point row to create: its columns (computed by the case service) and its owner."""

    columns: Mapping[str, Any]
    owner: Person | None


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
    association: str | None = None
    consent_association: bool = False


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
        association=draft.association,
        consent_association=draft.consent_association,
        status="open",
        # Built with the case so that one flush writes them and the caller can list the points
        # without reading them back.
        witnesses=[CaseWitness(person_id=w.id) for w in {w.id: w for w in witnesses}.values()],
        points=[
            PlanPoint(owner_id=point.owner.id if point.owner else None, owner=point.owner, **point.columns)
            for point in sorted(points, key=lambda p: p.columns["due_at"])
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
    add_event(session=session, case=case, kind="created", actor=reporter, now=now)
    record_access(
        session=session,
        person=reporter,
        case=case,
        surface=surface,
        action="create",
        purpose="case_report",
        now=now,
    )
    session.flush()
    return case, True


def leads_area(person: Person, area: str) -> bool:
    """Whether `person` is on the senior leadership team of `area` (or of the whole force)."""
    return any(r.role == "slt" and r.area in (None, area) for r in person.roles)


def _holds(person: Person, role: str, area: str) -> bool:
    return any(r.role == role and r.area in (None, area) for r in person.roles)


def relation(case: Case, person: Person) -> Relation | None:
    """How `person` is entitled to see `case`, or None when they are not.

    The senior leadership team of the case's area (or force-wide) sees it too: they are told of
    each case (point 7) and review it (Op Hampshire). A welfare officer of the area sees that the
    case exists, to read its welfare record.
    """
    if case.reporter_id == person.id:
        return "reporter"
    if case.io_id == person.id:
        return "io"
    if case.victim_id == person.id:
        return "victim"
    if leads_area(person, case.area):
        return "slt"
    if _holds(person, "welfare", case.area):
        return "welfare"
    return None


def reads_welfare(case: Case, person: Person) -> bool:
    """Whether `person` may read the case's welfare record: its victim, its reporting supervisor,
    or a welfare officer of its area (or of the whole force)."""
    return person.id in (case.victim_id, case.reporter_id) or _holds(person, "welfare", case.area)


def welfare_of(*, session: Session, case: Case) -> WelfareRecord | None:
    """The case's welfare record (the caller checks `reads_welfare` and audits the read)."""
    return session.scalar(select(WelfareRecord).where(WelfareRecord.case_id == case.id))


def cases_for(*, session: Session, person: Person, limit: int = 20) -> list[Case]:
    """Open cases the person reported, investigates, is the victim of, leads (senior leadership) or
    looks after (welfare officers), most recent first."""
    mine = or_(Case.reporter_id == person.id, Case.io_id == person.id, Case.victim_id == person.id)
    areas = [r.area for r in person.roles if r.role in ("slt", "welfare")]
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


def find_seen_case(
    *, session: Session, person: Person, reference: str, surface: str, now: datetime
) -> Case | None:
    """The case `reference` names if `person` has a part in it (see `relation`), else None.

    A reference that names no case and one that names a case the person has no part in are alike
    to the caller, so that trying references cannot tell which exist; both are audited as probes
    (the refused one with its case).
    """
    case = find_case(session=session, reference=reference)
    if case is not None and relation(case, person) is not None:
        return case
    record_probe(
        session=session, person=person, named="reference", reference=reference, found=case is not None,
        surface=surface, now=now, case=case,
    )  # fmt: skip
    return None


def view_case(
    *,
    session: Session,
    person: Person,
    reference: str,
    surface: str,
    now: datetime,
    allowed: Sequence[Relation] = WORKERS,
) -> tuple[Case | None, Literal["ok", "denied", "not_found"]]:
    """Open a case for `person` if their relation to it is `allowed`; audit the view or refusal.

    Someone with no relation to the case is told `not_found`, exactly as for a reference that
    names no case (`find_seen_case`). `denied` is only for someone who can see the case anyway
    (its victim, say) but not do this with it.
    """
    case = find_seen_case(session=session, person=person, reference=reference, surface=surface, now=now)
    if case is None:
        return None, "not_found"
    if relation(case, person) not in allowed:
        record_access(
            session=session, person=person, case=case, surface=surface, action="denied",
            purpose="probe", now=now,
        )  # fmt: skip
        return None, "denied"
    record_access(
        session=session, person=person, case=case, surface=surface, action="view",
        purpose="case_view", now=now,
    )  # fmt: skip
    return case, "ok"


def point_of(*, session: Session, case: Case, point_id: int) -> PlanPoint | None:
    """The point `point_id` of `case`, or None when the case has no such point."""
    point = session.get(PlanPoint, point_id)
    return point if point is not None and point.case_id == case.id else None


def write_point(*, session: Session, point: PlanPoint, columns: Mapping[str, Any]) -> None:
    """Write the columns a change of the point computed (`bot.cases.points.change_point`)."""
    for name, value in columns.items():
        setattr(point, name, value)
    session.flush()


def set_investigator(*, session: Session, case: Case, investigator: Person) -> None:
    """Record `investigator` as the case's IO."""
    case.io_id = investigator.id
    case.io = investigator
    session.flush()


def next_instance(*, session: Session, case: Case, code: str) -> int:
    """The number the next point of `code` on this case takes (1, then 2, 3, …)."""
    last = session.scalar(
        select(func.max(PlanPoint.instance)).where(PlanPoint.case_id == case.id, PlanPoint.code == code)
    )
    return (last or 0) + 1


def add_point(*, session: Session, case: Case, columns: Mapping[str, Any], owner: Person | None) -> PlanPoint:
    """Add one plan point to a case, with the columns the case service computed."""
    # Through the relationship, so the case's loaded `points` include it at once.
    row = PlanPoint(case=case, owner_id=owner.id if owner else None, owner=owner, **columns)
    session.add(row)
    session.flush()
    return row


def add_event(
    *, session: Session, case: Case, kind: str, actor: Person | None, now: datetime, **detail: object
) -> None:
    """Add an entry to the case's timeline (ids and kinds only; `actor` None is the bot)."""
    session.add(
        CaseEvent(case_id=case.id, at=now, actor_id=actor.id if actor else None, kind=kind, detail=detail)
    )


def events_of(*, session: Session, case: Case, kind: str) -> list[CaseEvent]:
    """The case's timeline entries of `kind`, oldest first."""
    return list(
        session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.kind == kind)
            .order_by(CaseEvent.id)
        )
    )


def set_case_fields(*, session: Session, case: Case, **columns: object) -> None:
    """Write columns of the case row (a decision's consequences, the agreed update interval)."""
    for name, value in columns.items():
        setattr(case, name, value)
    session.flush()


def last_done(case: Case, code: str) -> datetime | None:
    """When a point of `code` was last closed on this case."""
    return max((p.done_at for p in case.points if p.code == code and p.done_at), default=None)


def previous_cases(*, session: Session, case: Case, since: datetime) -> int:
    """How many other cases the same person is the victim of, of incidents since `since`."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.victim_id == case.victim_id, Case.id != case.id, Case.occurred_at >= since)
        )
        or 0
    )


def add_disclosure(
    *, session: Session, victim: Person, supervisor: Person, update_interval_days: int | None, now: datetime
) -> VictimDisclosure:
    """Record that `victim` told the bot they were assaulted and asked it to tell `supervisor`."""
    row = VictimDisclosure(
        victim_id=victim.id,
        victim=victim,
        supervisor_id=supervisor.id,
        supervisor=supervisor,
        update_interval_days=update_interval_days,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def claim_disclosure(*, session: Session, case: Case) -> VictimDisclosure | None:
    """Link the victim's latest disclosure not yet linked to a case to `case`, and return it."""
    row = session.scalar(
        select(VictimDisclosure)
        .where(VictimDisclosure.victim_id == case.victim_id, VictimDisclosure.case_id.is_(None))
        .order_by(VictimDisclosure.created_at.desc(), VictimDisclosure.id.desc())
        .limit(1)
    )
    if row is not None:
        row.case_id = case.id
        session.flush()
    return row
