"""Cases: references, one case per report, need-to-know access with audit, points, conflicts of interest."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from store import cases
from store.audit import audit_rows
from store.models import Case, CaseEvent, PlanPoint, WelfareRecord
from store.people import ensure_person

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Point:
    code: str
    instance: int
    owner: str
    due_at: datetime
    urgent: bool = False


POINTS = [
    Point("crime_recorded", 1, "supervisor", NOW + timedelta(hours=24)),
    Point("vps_offered", 1, "io", NOW + timedelta(days=7)),
    Point("senior_review", 1, "slt", NOW + timedelta(days=14)),
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
        points=POINTS,
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
        points=POINTS,
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
    assert cases.view_case(
        session=session, person=stranger, reference=case.reference, surface="slack", now=NOW
    ) == (
        None,
        "denied",
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


def test_marking_points(session: Session) -> None:
    case = open_one(session)
    point = case.points[0]
    stranger = ensure_person(session=session, email="pc.nosey.parker@example.police.uk", now=NOW)
    mark = {"session": session, "case": case, "point_id": point.id, "now": NOW, "surface": "console"}
    assert cases.mark_point(person=stranger, status="done", **mark) == "denied"  # type: ignore[arg-type]
    assert cases.mark_point(person=case.reporter, status="done", **mark) == "done"  # type: ignore[arg-type]
    assert cases.mark_point(person=case.reporter, status="done", **mark) == "already"  # type: ignore[arg-type]
    assert (point.status, point.done_by_id, point.next_nudge_at) == ("done", case.reporter_id, None)
    other = case.points[1]
    assert (
        cases.mark_point(
            session=session,
            person=case.reporter,
            case=case,
            point_id=other.id,
            status="not_applicable",
            now=NOW,
            surface="console",
            reason="Done by custody",
        )
        == "done"
    )
    assert (other.status, other.na_reason) == ("not_applicable", "Done by custody")
    assert (
        cases.mark_point(
            session=session,
            person=case.reporter,
            case=case,
            point_id=99999,
            status="done",
            now=NOW,
            surface="console",
        )
        == "not_found"
    )


def test_point_2_no_victim_or_witness_as_investigator(session: Session) -> None:
    case = open_one(session)
    witness = ensure_person(session=session, email="sam.lee@example.police.uk", now=NOW)
    io = ensure_person(session=session, email="sgt.tom.reid@example.police.uk", now=NOW)
    assign = {"session": session, "case": case, "now": NOW, "surface": "console"}
    assert (
        cases.assign_investigator(actor=case.reporter, investigator=case.victim, **assign)
        == "conflict_victim"
    )  # type: ignore[arg-type]
    assert (
        cases.assign_investigator(actor=case.reporter, investigator=witness, **assign) == "conflict_present"
    )  # type: ignore[arg-type]
    assert cases.assign_investigator(actor=io, investigator=io, **assign) == "denied"  # type: ignore[arg-type]
    assert cases.assign_investigator(actor=case.reporter, investigator=io, **assign) == "assigned"  # type: ignore[arg-type]
    assert case.io_id == io.id
    assert {p.code: p.owner_id for p in case.points if p.owner_role == "io"} == {"vps_offered": io.id}
    assert cases.relation(case, io) == "io"
    assert [c.reference for c in cases.cases_for(session=session, person=io)] == [case.reference]


def test_lists_of_cases(session: Session) -> None:
    first = open_one(session, "a")
    second = open_one(session, "b")
    assert [c.reference for c in cases.cases_for(session=session, person=first.reporter)] == [
        second.reference,
        first.reference,
    ]
    assert len(cases.victim_cases(session=session, person=first.victim)) == 2
    assert cases.cases_for(session=session, person=first.victim) == []
    assert session.scalar(select(func.count()).select_from(PlanPoint)) == 6
