"""Subject access: everything held about a person, in any role, decrypted, and the export audited."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.runtime import Runtime
from store.audit import record_access, verify_chain
from store.models import AccessAudit, Case, Person, PlanPoint, VisitRequest
from store.people import ensure_person
from store.subject_access import WITHHELD, export_person
from store.visits import add_visit_event
from tests.bot.helpers import IO, SUPERVISOR, VICTIM
from tests.conftest import START
from tests.store.test_crypto import CANARIES, report_with_canaries


def setup_case(runtime: Runtime) -> str:
    """A case with canary answers, an IO, and the IO having viewed it."""
    reference = report_with_canaries(runtime)
    with runtime.sessions.begin() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        io = ensure_person(session=session, email=IO, now=START)
        case.io_id = io.id
        session.flush()
        record_access(
            session=session,
            person=io,
            case=case,
            surface="slack",
            action="view",
            purpose="case_view",
            now=START,
        )
    return reference


def export(runtime: Runtime, email: str) -> dict[str, object]:
    with runtime.sessions.begin() as session:
        found = export_person(session=session, email=email, surface="cli", now=START)
    assert found is not None
    json.dumps(found)  # it is JSON as it stands
    return found


def test_the_victim_gets_their_case_welfare_and_who_viewed_it(runtime: Runtime) -> None:
    reference = setup_case(runtime)
    found = export(runtime, VICTIM.upper())  # an email is matched whatever its case
    assert found["person"]["email"] == VICTIM  # type: ignore[index]
    [case] = found["cases"]  # type: ignore[misc]
    assert case["reference"] == reference and case["your_part"] == ["victim"]
    assert (case["location"], case["injury_detail"]) == (CANARIES["location"], CANARIES["injury"])
    assert case["welfare_record"]["support_needed"] == CANARIES["support"]
    viewers = {(row["who"], row["purpose"]) for row in found["audit"]}  # type: ignore[attr-defined]
    assert (IO, "case_view") in viewers and (SUPERVISOR, "case_report") in viewers


def test_the_reporter_gets_their_part_not_the_victims_account(runtime: Runtime) -> None:
    reference = setup_case(runtime)
    found = export(runtime, SUPERVISOR)
    [case] = found["cases"]  # type: ignore[misc]
    assert case["reference"] == reference and case["your_part"] == ["reporter"]
    assert "location" not in case and "welfare_record" not in case
    assert CANARIES["how"] not in json.dumps(found) and CANARIES["location"] not in json.dumps(found)
    owned = found["plan_points"]
    assert owned and all(point["case"] == reference for point in owned)  # type: ignore[attr-defined]
    # ... and their own conversations: the report they were making when the export was run.
    assert found["conversations"] and found["channel_accounts"]
    assert {action["kind"] for action in found["actions"]} == {"created"}  # type: ignore[attr-defined]


def test_the_investigating_officer_gets_their_part(runtime: Runtime) -> None:
    reference = setup_case(runtime)
    found = export(runtime, IO)
    assert [(c["reference"], c["your_part"]) for c in found["cases"]] == [  # type: ignore[attr-defined]
        (reference, ["investigating_officer"])
    ]
    assert [(row["case"], row["action"]) for row in found["audit"]] == [(reference, "view")]  # type: ignore[attr-defined]


def test_the_export_is_audited_and_nobody_unknown_is_exported(runtime: Runtime) -> None:
    setup_case(runtime)
    export(runtime, VICTIM)
    with runtime.sessions.begin() as session:
        rows = session.scalars(select(AccessAudit).where(AccessAudit.purpose == "subject_access")).all()
        assert [(r.action, r.case_id is not None) for r in rows] == [("export", False), ("export", True)]
        assert (
            export_person(session=session, email="nobody@example.police.uk", surface="cli", now=START) is None
        )
        assert verify_chain(session=session)[1] is None


def test_a_half_finished_report_about_someone_else_keeps_its_slots_not_their_values(runtime: Runtime) -> None:
    setup_case(runtime)
    found = export(runtime, "sgt.kim.oduya@example.police.uk")  # left a report half way
    [conversation] = found["conversations"]  # type: ignore[misc]
    state = conversation["state"]
    assert (state["flow"], state["step"]) == ("report_assault", "area")
    assert {"victim_email", "location"} <= set(state["answers"])
    assert set(state["answers"].values()) == {WITHHELD}
    dumped = json.dumps(found)
    assert CANARIES["half"] not in dumped and "pc.amy.hart" not in dumped


def test_a_not_applicable_reason_is_the_victims_not_the_writers(runtime: Runtime) -> None:
    setup_case(runtime)
    with runtime.sessions.begin() as session:
        point = session.scalars(select(PlanPoint).where(PlanPoint.owner_role == "supervisor")).first()
        assert point is not None
        point.status, point.na_reason = "not_applicable", CANARIES["reason"]
    supervisor = export(runtime, SUPERVISOR)
    assert CANARIES["reason"] not in json.dumps(supervisor)
    assert all("reason" not in p for p in supervisor["plan_points"])  # type: ignore[attr-defined]
    with runtime.sessions.begin() as session:
        victim = session.scalars(select(Person).where(Person.email == VICTIM)).one()
        point = session.scalars(select(PlanPoint).where(PlanPoint.na_reason.is_not(None))).one()
        point.owner_id = victim.id  # a point the victim owns: its reason is theirs
    [own] = export(runtime, VICTIM)["plan_points"]  # type: ignore[misc]
    assert own["reason"] == CANARIES["reason"]


def test_the_victims_case_carries_their_association_and_consent(runtime: Runtime) -> None:
    setup_case(runtime)
    [case] = export(runtime, VICTIM)["cases"]  # type: ignore[misc]
    assert (case["association"], case["consent_association"]) == (
        "police_federation",
        True,
    )  # the canary report tells it
    [reported] = export(runtime, SUPERVISOR)["cases"]  # type: ignore[misc]
    assert "association" not in reported


def test_a_visitor_gets_their_visit_requests_and_timeline(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        visitor = ensure_person(session=session, email="cllr.ann.vale@example.police.uk", now=START)
        chief = ensure_person(session=session, email="ce.bo.lund@example.police.uk", now=START)
        request = VisitRequest(
            reference="OV-2026-0001", submission_key="k", visitor_id=visitor.id, visitee="family",
            investigation="yes", nature=CANARIES["how"], capacity="office", proposed_on=START.date(),
            status="approved", decided_by_id=chief.id, decided_as="commissioner", plan=CANARIES["support"],
            requested_at=START,
        )  # fmt: skip
        session.add(request)
        session.flush()
        add_visit_event(session=session, request=request, kind="requested", actor=visitor, now=START)
        add_visit_event(
            session=session, request=request, kind="decided", actor=chief, now=START, step="decision"
        )
    [visit] = export(runtime, "cllr.ann.vale@example.police.uk")["visits"]  # type: ignore[misc]
    assert (visit["reference"], visit["nature"], visit["plan"]) == (
        "OV-2026-0001",
        CANARIES["how"],
        CANARIES["support"],
    )
    assert visit["decided_by"] == "ce.bo.lund@example.police.uk"
    assert [(e["kind"], e["who"]) for e in visit["timeline"]] == [
        ("requested", "cllr.ann.vale@example.police.uk"),
        ("decided", "ce.bo.lund@example.police.uk"),
    ]
    assert export(runtime, "ce.bo.lund@example.police.uk")["visits"] == []
