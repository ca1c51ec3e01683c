"""Nobody works on or decides their own visit request: the pack's stand-ins act instead (seed 004)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.runtime import Runtime
from bot.visits import service
from store.audit import audit_rows
from store.models import Person, VisitRequest
from store.people import add_role, ensure_person
from tests.bot.visits.helpers import CHIEF_EXECUTIVE, COMMISSIONER, LIAISON, add_people
from tests.conftest import FakeClock

BRIEFING = service.Briefing(
    visitee="family", investigation="yes", nature="To hear the family's views",
    capacity="office", proposed_on=date(2026, 12, 4),
)  # fmt: skip


def _person(session: object, email: str) -> Person:
    found = session.scalar(select(Person).where(Person.email == email))  # type: ignore[attr-defined]
    assert found is not None
    return found  # type: ignore[no-any-return]


def _own_request(runtime: Runtime, clock: FakeClock, email: str) -> int:
    """`email` (the Chief Executive or the Commissioner) asks to visit; the request's id."""
    with runtime.sessions.begin() as session:
        request, new = service.request_visit(
            runtime.pack, session=session, visitor=_person(session, email), briefing=BRIEFING,
            submission_key=f"own:{email}", surface="console", now=clock(),
        )  # fmt: skip
        assert request is not None and new
        return request.id


def _decide(runtime: Runtime, clock: FakeClock, email: str, request_id: int) -> str:
    with runtime.sessions.begin() as session:
        return service.decide(
            runtime.pack, session=session, actor=_person(session, email),
            request=session.get_one(VisitRequest, request_id), approve=True, plan="With the FLO",
            debrief_wanted=False, reason=None, surface="console", now=clock(),
        )  # fmt: skip


def _issues(runtime: Runtime, clock: FakeClock, email: str, request_id: int) -> str:
    with runtime.sessions.begin() as session:
        return service.record_issues(
            runtime.pack, session=session, actor=_person(session, email),
            request=session.get_one(VisitRequest, request_id), issues="None", surface="console", now=clock(),
        )  # fmt: skip


def _guidance(runtime: Runtime, clock: FakeClock, chief: str, request_id: int) -> None:
    with runtime.sessions.begin() as session:
        request = session.get_one(VisitRequest, request_id)
        actor = _person(session, chief)
        sought = service.seek_guidance(
            runtime.pack, session=session, actor=actor, request=request, surface="console", now=clock()
        )
        assert sought == "sought"
    with runtime.sessions.begin() as session:
        given = service.give_guidance(
            runtime.pack, session=session, actor=_person(session, LIAISON),
            request=session.get_one(VisitRequest, request_id), guidance="no_concerns", text=None,
            surface="console", now=clock(),
        )  # fmt: skip
        assert given == "given"


def _denials(runtime: Runtime) -> list[str]:
    with runtime.sessions() as session:
        emails = {p.id: p.email for p in session.scalars(select(Person))}
        return [
            emails.get(row.person_id or 0, "")
            for row in audit_rows(session=session)
            if row.action == "denied"
        ]


def test_a_chief_executive_cannot_record_issues_or_decide_on_their_own_visit(
    runtime: Runtime, clock: FakeClock
) -> None:
    add_people(runtime)
    request_id = _own_request(runtime, clock, CHIEF_EXECUTIVE)
    # The Chief Executive's own briefing goes to the Commissioner, not back to themself.
    with runtime.sessions() as session:
        request = session.get_one(VisitRequest, request_id)
        chiefs = service.recipients(runtime.pack, session, request, service.CHIEF_EXECUTIVE)
        assert [p.email for p in chiefs] == [COMMISSIONER]
    _guidance(runtime, clock, COMMISSIONER, request_id)
    assert _issues(runtime, clock, CHIEF_EXECUTIVE, request_id) == "denied"
    assert _denials(runtime) == [CHIEF_EXECUTIVE]
    assert _issues(runtime, clock, COMMISSIONER, request_id) == "recorded"
    assert _decide(runtime, clock, CHIEF_EXECUTIVE, request_id) == "denied"
    assert _denials(runtime) == [CHIEF_EXECUTIVE, CHIEF_EXECUTIVE]
    assert _decide(runtime, clock, COMMISSIONER, request_id) == "approved"
    with runtime.sessions() as session:
        decided = session.get_one(VisitRequest, request_id)
        assert decided.decided_by is not None and decided.decided_by.email == COMMISSIONER
        assert decided.decided_as == "commissioner"


def test_a_commissioners_own_visit_is_decided_by_the_chief_executive_acting(
    runtime: Runtime, clock: FakeClock
) -> None:
    add_people(runtime)
    request_id = _own_request(runtime, clock, COMMISSIONER)
    _guidance(runtime, clock, CHIEF_EXECUTIVE, request_id)
    assert _issues(runtime, clock, CHIEF_EXECUTIVE, request_id) == "recorded"
    assert _decide(runtime, clock, COMMISSIONER, request_id) == "denied"
    assert _denials(runtime) == [COMMISSIONER]
    assert _decide(runtime, clock, CHIEF_EXECUTIVE, request_id) == "approved"
    with runtime.sessions() as session:
        decided = session.get_one(VisitRequest, request_id)
        assert decided.decided_as == "chief_executive_for_commissioner"


def test_a_visitor_who_also_holds_a_deciding_role_is_refused(runtime: Runtime, clock: FakeClock) -> None:
    """A second Chief Executive may decide; the one asking may not, even holding the role."""
    add_people(runtime)
    other = "ce.deputy.amy.hale@example.police.uk"
    with runtime.sessions.begin() as session:
        add_role(session=session, person=ensure_person(session=session, email=other, now=clock()),
                 role="opcc_chief_executive")  # fmt: skip
    request_id = _own_request(runtime, clock, CHIEF_EXECUTIVE)
    _guidance(runtime, clock, other, request_id)
    assert _issues(runtime, clock, other, request_id) == "recorded"
    assert _decide(runtime, clock, CHIEF_EXECUTIVE, request_id) == "denied"
    assert _decide(runtime, clock, other, request_id) == "approved"
