"""The case service on SQLite and PostgreSQL: opening, assigning, closing, snoozing, deciding."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.cases import service
from bot.cases.answers import ReportAnswers
from dialogs.schema import Pack
from store.models import AccessAudit, Case, CaseEvent, Nudge, Person, PlanPoint
from store.outbox import outbox_row
from store.people import add_role, ensure_person

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SUPERVISOR = "sgt.ravi.kaur@example.police.uk"
VICTIM = "pc.amy.hart@example.police.uk"
WITNESS = "pc.sam.lee@example.police.uk"
IO = "sgt.tom.reid@example.police.uk"
LEADER = "supt.lou.grant@example.police.uk"
ANSWERS = {
    "victim_email": VICTIM,
    "victim_role": "officer",
    "occurred_at": (NOW - 2 * HOUR).isoformat(),
    "location": "Broad Street",
    "area": "coventry",
    "kind": "spitting",
    "hate_motivated": "no",
    "injury_level": "none",
    "suspect_arrested": "no",
    "colleagues_present": [WITNESS],
    "welfare_how": "shaken",
    "welfare_support": "a call",
    "welfare_handover": "none",
    "consent_contact": "yes",
}


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session, session.begin():
        yield session


def person(session: Session, email: str) -> Person:
    return ensure_person(session=session, email=email, now=NOW)


def open_case(pack: Pack, session: Session, key: str = "console:t1", **answers: object) -> Case:
    case, created = service.open_case(
        pack,
        session=session,
        answers=ReportAnswers.model_validate({**ANSWERS, **answers}),
        reporter=person(session, SUPERVISOR),
        submission_key=key,
        surface="console",
        now=NOW,
    )
    assert created
    return case


def the(case: Case, code: str, instance: int = 1) -> PlanPoint:
    return next(p for p in case.points if p.code == code and p.instance == instance)


def assign(pack: Pack, session: Session, case: Case, email: str = IO, actor: str = SUPERVISOR) -> str:
    return service.assign_investigator(
        pack,
        session=session,
        actor=person(session, actor),
        case=case,
        investigator=person(session, email),
        surface="console",
        now=NOW + HOUR,
    )


def close(pack: Pack, session: Session, case: Case, point: PlanPoint, who: str = SUPERVISOR) -> str:
    return service.close_point(
        pack,
        session=session,
        actor=person(session, who),
        case=case,
        point_id=point.id,
        status="done",
        surface="console",
        now=NOW + 2 * HOUR,
    )


def reminder(session: Session, case: Case, point: PlanPoint, kind: str = "nudge") -> Nudge:
    """A reminder queued for `point`, as the sweep would queue it."""
    session.execute(
        Nudge.__table__.insert(),
        [
            outbox_row(
                kind=kind,
                dedupe_key=f"{kind}:p{point.id}:{point.due_at.isoformat()}:{case.reporter_id}",
                recipient_id=case.reporter_id,
                due_slot=point.due_at,
                payload={"reference": case.reference, "point": point.id},
                now=NOW,
                not_before=point.due_at,
                point_id=point.id,
                case_id=case.id,
            )
        ],
    )
    row = session.scalar(select(Nudge).where(Nudge.point_id == point.id, Nudge.kind == kind))
    assert row is not None
    return row


def events(session: Session, case: Case) -> list[tuple[str, int | None]]:
    rows = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
    return [(e.kind, e.actor_id) for e in rows]


def test_opening_gives_each_point_its_owner_and_clock(pack: Pack, session: Session) -> None:
    case = open_case(pack, session)
    owners = {p.code: (p.owner_role, p.owner_id) for p in case.points}
    assert owners["crime_recorded"] == ("supervisor", case.reporter_id)
    assert owners["vps_offered"] == ("io", None)
    assert owners["senior_review"] == ("slt", None)
    assert "colleagues_welfare_offered" in owners  # a colleague was present
    assert all(p.status == "open" and p.next_nudge_at == p.remind_at == p.due_at for p in case.points)
    assert [w.person_id for w in case.witnesses] == [person(session, WITNESS).id]


def test_the_same_submission_opens_one_case(pack: Pack, session: Session) -> None:
    first = open_case(pack, session)
    again, created = service.open_case(
        pack,
        session=session,
        answers=ReportAnswers.model_validate(ANSWERS),
        reporter=first.reporter,
        submission_key="console:t1",
        surface="console",
        now=NOW,
    )
    assert (again.id, created) == (first.id, False)


def test_the_areas_leaders_are_told_of_a_new_case(pack: Pack, session: Session) -> None:
    add_role(session=session, person=person(session, LEADER), role="slt", area="coventry")
    case = open_case(pack, session)
    rows = session.scalars(select(Nudge)).all()
    assert [(n.kind, n.recipient_id, n.case_id) for n in rows] == [
        ("slt_new_case", person(session, LEADER).id, case.id),
        ("victim_leaflet", case.victim_id, case.id),  # the victim agreed to hear from the bot
    ]


def test_the_victim_or_a_colleague_present_cannot_investigate(pack: Pack, session: Session) -> None:
    case = open_case(pack, session)
    assert assign(pack, session, case, VICTIM) == "conflict_victim"
    assert assign(pack, session, case, WITNESS) == "conflict_present"
    assert assign(pack, session, case, IO, actor=IO) == "denied"
    assert case.io_id is None and the(case, "investigator_assigned").status == "open"


def test_assigning_hands_the_io_their_points(pack: Pack, session: Session) -> None:
    case = open_case(pack, session)
    assert assign(pack, session, case) == "assigned"
    io = person(session, IO)
    assert case.io_id == io.id
    assert {p.code: p.owner_id for p in case.points if p.owner_role == "io"} == {
        "victim_updated": io.id,
        "vps_offered": io.id,
    }
    victim_notices = session.scalars(select(Nudge.kind).where(Nudge.recipient_id == case.victim_id)).all()
    assert victim_notices == ["victim_leaflet", "victim_io"]


def test_closing_a_point_checks_who_and_closes_once(pack: Pack, session: Session) -> None:
    case = open_case(pack, session)
    crime = the(case, "crime_recorded")
    assert close(pack, session, case, crime, who="pc.nosey.parker@example.police.uk") == "denied"
    assert close(pack, session, case, crime) == "done"
    assert close(pack, session, case, crime) == "already"
    assert (crime.status, crime.done_by_id, crime.next_nudge_at) == ("done", case.reporter_id, None)
    assert ("point_done", case.reporter_id) in events(session, case)
    missing = service.close_point(
        pack, session=session, actor=case.reporter, case=case, point_id=99999, status="done",
        surface="console", now=NOW,
    )  # fmt: skip
    assert missing == "not_found"


def test_not_applicable_keeps_its_reason(pack: Pack, session: Session) -> None:
    case = open_case(pack, session)
    leaflet = the(case, "leaflet_given")
    outcome = service.close_point(
        pack, session=session, actor=case.reporter, case=case, point_id=leaflet.id,
        status="not_applicable", reason="Given by custody", surface="console", now=NOW,
    )  # fmt: skip
    assert outcome == "done"
    assert (leaflet.status, leaflet.na_reason) == ("not_applicable", "Given by custody")


def test_a_closed_point_withdraws_its_pending_reminders_only(pack: Pack, session: Session) -> None:
    case = open_case(pack, session)
    crime, leaflet = the(case, "crime_recorded"), the(case, "leaflet_given")
    nudge, escalation, other = (
        reminder(session, case, crime),
        reminder(session, case, crime, "escalation"),
        (reminder(session, case, leaflet)),
    )
    sent = reminder(session, case, crime, "unassigned")
    sent.status = "sent"
    close(pack, session, case, crime)
    session.expire_all()
    assert (nudge.status, escalation.status, sent.status, other.status) == (
        "withdrawn",
        "withdrawn",
        "sent",
        "pending",
    )


def test_snoozing_moves_the_reminder_not_the_escalation(pack: Pack, session: Session) -> None:
    case = open_case(pack, session)
    crime = the(case, "crime_recorded")
    outcome = service.snooze_point(
        pack, session=session, actor=case.reporter, case=case, point_id=crime.id, surface="console",
        now=crime.due_at + HOUR,
    )  # fmt: skip
    assert outcome == "snoozed"
    assert crime.remind_at == crime.due_at + 25 * HOUR  # the pack's 24 hours
    audited = session.scalars(select(AccessAudit.action).where(AccessAudit.case_id == case.id)).all()
    assert audited[-1] == "update"  # putting a point off is a change to the case, audited like one
    assert crime.next_nudge_at == crime.due_at + 24 * HOUR  # escalation after 24 hours' grace


def test_a_recurring_point_comes_round_at_the_agreed_interval(pack: Pack, session: Session) -> None:
    case = open_case(pack, session)
    assign(pack, session, case)
    outcome, next_due = service.set_update_interval(
        pack, session=session, actor=case.reporter, case=case, days=14, surface="console", now=NOW
    )
    assert (outcome, next_due) == ("set", NOW + timedelta(days=14))
    first = the(case, "victim_updated")
    assert (first.due_at, first.remind_at, first.next_nudge_at) == (next_due,) * 3
    assert close(pack, session, case, first, who=IO) == "done"
    second = the(case, "victim_updated", 2)
    assert (second.due_at, second.owner_id) == (NOW + 2 * HOUR + timedelta(days=14), case.io_id)


def test_a_decision_starts_its_points_and_the_victims_notice(pack: Pack, session: Session) -> None:
    case = open_case(pack, session)
    assign(pack, session, case)
    io = person(session, IO)
    outcome, added = service.record_decision(
        pack, session=session, actor=io, case=case, decision="no_further_action", decided_at=NOW,
        surface="console", now=NOW,
    )  # fmt: skip
    assert outcome == "recorded"
    assert {p.code for p in added} == {"decision_explained", "vrr_explained"}
    assert all(p.owner_id == io.id for p in added)
    assert case.review_until == datetime(2027, 2, 23, 9, 0, tzinfo=UTC)
    notice = session.scalar(select(Nudge).where(Nudge.kind == "victim_decision"))
    assert notice is not None and notice.point_id is None
    assert notice.payload["completes"] == []  # it does not name the decision: the IO still tells them


def test_only_the_reporter_or_io_decide(pack: Pack, session: Session) -> None:
    case = open_case(pack, session)
    stranger = person(session, "pc.nosey.parker@example.police.uk")
    outcome, added = service.record_decision(
        pack, session=session, actor=stranger, case=case, decision="arrest", decided_at=NOW,
        surface="console", now=NOW,
    )  # fmt: skip
    assert (outcome, added, case.suspect_arrested) == ("denied", [], "no")


def test_what_a_decision_changes_is_the_packs(pack: Pack, session: Session) -> None:
    quiet = pack.model_copy(update={"plan": pack.plan.model_copy(update={"decisions": {}})})
    case = open_case(quiet, session)
    outcome, _ = service.record_decision(
        quiet, session=session, actor=case.reporter, case=case, decision="arrest", decided_at=NOW,
        surface="console", now=NOW,
    )  # fmt: skip
    assert (outcome, case.suspect_arrested) == ("recorded", "no")
    service.record_decision(
        pack, session=session, actor=case.reporter, case=case, decision="arrest", decided_at=NOW,
        surface="console", now=NOW,
    )  # fmt: skip
    assert case.suspect_arrested == "yes"
