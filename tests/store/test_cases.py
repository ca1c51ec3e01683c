"""Cases: references, one case per report, need-to-know access with audit, points, conflicts of interest."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from store import cases
from store.audit import audit_rows
from store.models import Case, CaseEvent, Person, PlanPoint, WelfareRecord
from store.people import ensure_person

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def row(code: str, owner_role: str, due_at: datetime) -> dict[str, object]:
    return {
        "code": code,
        "instance": 1,
        "owner_role": owner_role,
        "urgent": False,
        "status": "open",
        "due_at": due_at,
        "remind_at": due_at,
        "next_nudge_at": due_at,
    }


def points(reporter: Person) -> list[cases.NewPoint]:
    """Rows as the case service computes them: the reporter owns the supervisor's point."""
    return [
        cases.NewPoint(row("crime_recorded", "supervisor", NOW + timedelta(hours=24)), reporter),
        cases.NewPoint(row("vps_offered", "io", NOW + timedelta(days=7)), None),
        cases.NewPoint(row("senior_review", "slt", NOW + timedelta(days=14)), None),
    ]


DRAFT = cases.CaseDraft(
    victim_email="pc.amy.hart@example.police.uk",
    victim_role="officer",
    occurred_at=NOW - timedelta(hours=9),
    location="Broad Street",
    area="coventry",
    kind="spitting",
    hate_crime=False,
    hate_strand=None,
    enhanced_rights=False,
    injury_level="none",
    injury_detail=None,
    medical_care=None,
    hospitalised=False,
    suspect_arrested="yes",
    crime_reference=None,
    colleagues_present=["sam.lee@example.police.uk"],
    consent_contact=True,
    welfare_how="shaken",
    welfare_support="a call",
    welfare_handover="none",
)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session, session.begin():
        yield session


def open_one(session: Session, key: str = "console:abc") -> Case:
    reporter = ensure_person(session=session, email="sgt.ravi.kaur@example.police.uk", now=NOW)
    victim = ensure_person(session=session, email=DRAFT.victim_email, now=NOW)
    witness = ensure_person(session=session, email="sam.lee@example.police.uk", now=NOW)
    case, created = cases.open_case(
        session=session,
        draft=DRAFT,
        reporter=reporter,
        victim=victim,
        witnesses=[witness],
        points=points(reporter),
        submission_key=key,
        surface="console",
        now=NOW,
    )
    assert created
    return case


def test_references_count_up_within_a_year(session: Session) -> None:
    assert [open_one(session, f"k{i}").reference for i in range(3)] == [
        "OH-2026-0001",
        "OH-2026-0002",
        "OH-2026-0003",
    ]
    assert cases.next_reference(session=session, year=2027) == "OH-2027-0001"


def test_the_same_submission_opens_one_case(session: Session) -> None:
    first = open_one(session)
    reporter = first.reporter
    again, created = cases.open_case(
        session=session,
        draft=DRAFT,
        reporter=reporter,
        victim=first.victim,
        witnesses=[],
        points=points(reporter),
        submission_key="console:abc",
        surface="console",
        now=NOW,
    )
    assert not created and again.id == first.id
    assert session.scalar(select(func.count()).select_from(Case)) == 1


def test_opening_stores_points_owners_welfare_apart_and_an_event(session: Session) -> None:
    case = open_one(session)
    owners = {p.code: (p.owner_role, p.owner_id) for p in case.points}
    assert owners == {
        "crime_recorded": ("supervisor", case.reporter_id),
        "vps_offered": ("io", None),
        "senior_review": ("slt", None),
    }
    assert all(p.next_nudge_at == p.due_at for p in case.points)
    welfare = session.scalar(select(WelfareRecord).where(WelfareRecord.case_id == case.id))
    assert welfare is not None and welfare.how_they_are == "shaken"
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
    assert [(e.kind, e.detail) for e in events] == [("created", {})]
    assert [(a.action, a.surface) for a in audit_rows(session=session, case=case)] == [("create", "console")]


def test_only_reporter_io_and_victim_are_related(session: Session) -> None:
    case = open_one(session)
    stranger = ensure_person(session=session, email="pc.nosey.parker@example.police.uk", now=NOW)
    assert cases.relation(case, case.reporter) == "reporter"
    assert cases.relation(case, case.victim) == "victim"
    assert cases.relation(case, stranger) is None


def test_every_view_and_refusal_is_audited(session: Session) -> None:
    case = open_one(session)
    stranger = ensure_person(session=session, email="pc.nosey.parker@example.police.uk", now=NOW)
    # A stranger cannot tell a case that exists from one that does not.
    assert cases.view_case(
        session=session, person=stranger, reference=case.reference, surface="slack", now=NOW
    ) == (
        None,
        "not_found",
    )
    seen, outcome = cases.view_case(
        session=session, person=case.reporter, reference=case.reference.lower(), surface="msteams", now=NOW
    )
    assert outcome == "ok" and seen is not None and seen.id == case.id
    assert cases.view_case(
        session=session, person=stranger, reference="OH-1999-0001", surface="x", now=NOW
    ) == (
        None,
        "not_found",
    )
    rows = [(a.person_id, a.action, a.surface) for a in audit_rows(session=session, case=case)]
    assert rows[1:] == [(stranger.id, "denied", "slack"), (case.reporter_id, "view", "msteams")]
    probes = [(a.person_id, a.case_id, a.action, a.detail) for a in audit_rows(session=session)][-1:]
    assert probes == [(stranger.id, None, "not_found", "reference OH-1999-0001")]


def test_someone_who_sees_a_case_but_may_not_work_it_is_denied(session: Session) -> None:
    case = open_one(session)
    assert cases.view_case(
        session=session, person=case.victim, reference=case.reference, surface="slack", now=NOW
    ) == (None, "denied")


def test_point_writes_and_the_timeline(session: Session) -> None:
    case = open_one(session)
    point = case.points[0]
    assert cases.point_of(session=session, case=case, point_id=point.id) is point
    assert cases.point_of(session=session, case=case, point_id=99999) is None
    cases.write_point(session=session, point=point, columns={"status": "done", "next_nudge_at": None})
    assert (point.status, point.next_nudge_at) == ("done", None)
    assert cases.next_instance(session=session, case=case, code="crime_recorded") == 2
    cases.add_event(
        session=session, case=case, kind="point_done_by_bot", actor=None, now=NOW, point_id=point.id
    )
    [event] = cases.events_of(session=session, case=case, kind="point_done_by_bot")
    assert (event.actor_id, event.detail) == (None, {"point_id": point.id})


def test_lists_of_cases(session: Session) -> None:
    first = open_one(session, "a")
    second = open_one(session, "b")
    assert [c.reference for c in cases.cases_for(session=session, person=first.reporter)] == [
        second.reference,
        first.reference,
    ]
    assert len(cases.victim_cases(session=session, person=first.victim)) == 2
    # The victim finds their own cases under "my cases" too (their own view of each).
    assert [c.reference for c in cases.cases_for(session=session, person=first.victim)] == [
        second.reference,
        first.reference,
    ]
    assert session.scalar(select(func.count()).select_from(PlanPoint)) == 6


def test_points_carry_their_cases_area_and_time_and_follow_a_change(session: Session) -> None:
    """The compliance report counts points without joining them to their cases."""
    case = open_one(session)
    columns = {**row("vps_offered", "io", NOW), "instance": 2}
    later = cases.add_point(session=session, case=case, columns=columns, owner=None)
    # A point given its case by id alone reads the case's area and time itself.
    by_id = PlanPoint(case_id=case.id, code="senior_review", instance=2, owner_role="slt", due_at=NOW)
    session.add(by_id)
    session.flush()

    def stored() -> set[tuple[str | None, datetime | None]]:
        query = select(PlanPoint.case_area, PlanPoint.case_occurred_at).where(PlanPoint.case_id == case.id)
        return {(area, at) for area, at in session.execute(query)}

    assert later.instance == 2 and stored() == {(DRAFT.area, DRAFT.occurred_at)}
    moved = DRAFT.occurred_at - timedelta(days=1)
    cases.set_case_fields(session=session, case=case, area="walsall", occurred_at=moved)
    assert stored() == {("walsall", moved)}
    cases.set_case_fields(session=session, case=case, status="closed")
    assert stored() == {("walsall", moved)}
