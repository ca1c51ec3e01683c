"""An OPCC visit request in the console, from the visitor's briefing to the debrief (seed 004).

Each person talks to the bot in their own console; the cards the protocol sends them wait in the
outbox until they open it (`Console.inbox`), and their buttons start the visit flow there.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.runtime import Runtime
from bot.visits.sweep import sweep_visits
from dialogs.types import ChoicePick
from dialogs.visits import card_step
from store.audit import audit_rows
from store.models import Nudge, Person, VisitRequest, VisitStep
from tests.bot.visits.helpers import (
    CHIEF_EXECUTIVE,
    COMMISSIONER,
    LIAISON,
    VISITOR,
    Console,
    add_people,
    queued,
    request,
    timeline,
)
from tests.channel import keys
from tests.conftest import FakeClock

VISIT_DAY = "2026-12-04"  # the Friday after START


def ask(runtime: Runtime, *, investigation: str = "yes", text: str = "I'd like to visit a family") -> str:
    """The visitor's briefing, confirmed; returns the request's reference."""
    visitor = Console(runtime, VISITOR)
    assert keys(visitor.say(text)) == ["strings.visit_intro", "strings.ask_visitee"]
    assert keys(visitor.pick("family")) == ["strings.ask_investigation"]
    expected = ["strings.visit_must_wait", "strings.ask_visit_nature"]
    if investigation == "not_sure":
        expected.insert(0, "strings.visit_precaution")
    assert keys(visitor.pick(investigation)) == expected
    assert keys(visitor.say("To hear the family's views on victim support services")) == [
        "strings.ask_capacity"
    ]
    assert keys(visitor.pick("office")) == ["strings.ask_proposed_on"]
    assert keys(visitor.say(VISIT_DAY)) == ["strings.visit_summary"]
    replies = visitor.pick("confirm")
    assert keys(replies) == ["strings.visit_requested", "strings.visit_must_wait", "strings.anything_else"]
    return replies[0].text.split("Request ")[1].split()[0]


def guidance(runtime: Runtime, reference: str) -> None:
    """The Chief Executive asks the force; the liaison answers with concerns, guidance only."""
    chief = Console(runtime, CHIEF_EXECUTIVE)
    assert keys(chief.inbox()) == ["strings.visit_card_briefing"]
    assert keys(chief.pick("seek_guidance")) == ["strings.visit_guidance_sought", "strings.anything_else"]
    liaison = Console(runtime, LIAISON)
    assert keys(liaison.inbox()) == ["strings.visit_card_guidance_ask"]
    assert keys(liaison.pick("concerns")) == ["strings.ask_guidance_concerns"]
    refused = liaison.say("Please wait: see OH-2026-0001")
    assert keys(refused) == ["strings.visit_guidance_case_detail", "strings.ask_guidance_concerns"]
    answered = liaison.say("Please wait until after the court hearing next month.")
    assert keys(answered) == ["strings.visit_guidance_given", "strings.anything_else"]
    assert keys(chief.inbox()) == ["strings.visit_card_guidance"]
    assert keys(chief.pick("record_issues")) == ["strings.ask_visit_issues"]
    assert keys(chief.say("Agreed to visit with the family liaison officer's knowledge")) == [
        "strings.ask_who_decides"
    ]


def test_a_request_goes_from_briefing_through_guidance_and_approval_to_debrief(
    runtime: Runtime, clock: FakeClock
) -> None:
    add_people(runtime)
    visitor = Console(runtime, VISITOR)
    assert keys(visitor.say("my visit requests")) == ["strings.my_visits_none", "strings.anything_else"]
    reference = ask(runtime)
    # At any step before permission, the visitor asking is told where it stands and not to visit yet.
    waiting = visitor.say("my visit requests")
    assert keys(waiting) == ["strings.my_visits", "strings.visit_must_wait", "strings.anything_else"]
    assert [(f.label, f.value) for f in waiting[0].facts] == [
        (reference, "With the Chief Executive; proposed for Friday 4 December 2026")
    ]
    guidance(runtime, reference)
    chief = Console(runtime, CHIEF_EXECUTIVE)
    # The Chief Executive's conversation is where it was: at "who decides".
    assert keys(chief.resume()) == ["strings.welcome_back", "strings.ask_who_decides"]
    assert keys(chief.pick("refer")) == ["strings.visit_referred", "strings.anything_else"]
    commissioner = Console(runtime, COMMISSIONER)
    assert keys(commissioner.inbox()) == ["strings.visit_card_decide"]
    assert keys(commissioner.pick("approve")) == ["strings.ask_visit_plan"]
    assert keys(commissioner.say("Visit with the family liaison officer after the hearing")) == [
        "strings.ask_debrief_wanted"
    ]
    assert keys(commissioner.say("yes")) == ["strings.visit_approved", "strings.anything_else"]
    visitor = Console(runtime, VISITOR)
    [told] = visitor.inbox()
    assert told.key == "strings.visit_card_approved" and not told.choices
    stored = request(runtime, reference)
    assert (stored.status, stored.decided_as) == ("approved", "commissioner")
    assert keys(visitor.say("my visits")) == ["strings.my_visits", "strings.anything_else"]

    # The day after the visit the visitor is asked for the debrief.
    clock.advance(days=12)
    assert sweep_visits(runtime.pack, sessions=runtime.sessions, now=clock()).reminded == 1
    assert keys(visitor.inbox()) == ["strings.visit_nudge", "strings.visit_card_debrief_ask"]
    assert keys(visitor.pick("debrief")) == ["strings.ask_visit_debrief"]
    assert keys(visitor.say("Met the family; they asked about support services")) == [
        "strings.visit_debriefed",
        "strings.anything_else",
    ]
    assert keys(chief.inbox()) == ["strings.visit_card_debriefed"]
    assert request(runtime, reference).status == "debriefed"
    assert timeline(runtime, reference) == [
        "visit_requested",
        "guidance_sought",
        "guidance_given",
        "issues_recorded",
        "visit_referred",
        "visit_approved",
        "visit_debriefed",
    ]
    with runtime.sessions() as session:
        audited = {
            (session.get(Person, row.person_id).email, row.action)  # type: ignore[union-attr]
            for row in audit_rows(session=session)
            if row.detail == f"visit {reference}"
        }
    assert audited == {
        (VISITOR, "create"),
        (VISITOR, "view"),
        (CHIEF_EXECUTIVE, "update"),
        (LIAISON, "update"),
        (COMMISSIONER, "update"),
        (VISITOR, "update"),
    }


def test_a_declined_request_tells_the_visitor_why(runtime: Runtime) -> None:
    add_people(runtime)
    reference = ask(runtime)
    guidance(runtime, reference)
    chief = Console(runtime, CHIEF_EXECUTIVE)
    chief.resume()
    chief.pick("refer")
    commissioner = Console(runtime, COMMISSIONER)
    commissioner.inbox()
    assert keys(commissioner.pick("decline")) == ["strings.ask_decline_reason"]
    assert keys(commissioner.say("Not while the trial is pending")) == [
        "strings.visit_declined",
        "strings.anything_else",
    ]
    [told] = Console(runtime, VISITOR).inbox()
    assert told.key == "strings.visit_card_declined"
    assert "Not while the trial is pending" in [fact.value for fact in told.facts]
    stored = request(runtime, reference)
    assert (stored.status, stored.reason, stored.debrief_wanted) == (
        "declined",
        "Not while the trial is pending",
        None,
    )
    assert timeline(runtime, reference)[-1] == "visit_declined"
    # The decision card pressed again (a second Commissioner, a double click) changes nothing.
    assert keys(commissioner.inbox()) == []
    again = Console(runtime, COMMISSIONER)
    again.last = [told.model_copy(update={"choices": ()})]
    assert keys(again._send(pick=_decide_pick(reference))) == [
        "strings.visit_step_already_done",
        "strings.anything_else",
    ]


def _decide_pick(reference: str) -> ChoicePick:
    return ChoicePick(step=card_step("visit_action", reference), value="approve")


def test_not_sure_counts_as_yes(runtime: Runtime) -> None:
    add_people(runtime)
    reference = ask(runtime, investigation="not_sure")
    assert request(runtime, reference).investigation == "not_sure"
    [briefing] = Console(runtime, CHIEF_EXECUTIVE).inbox()
    facts = {fact.label: fact.value for fact in briefing.facts}
    assert facts[runtime.pack.text("strings.visit_label_investigation")] == runtime.pack.text(
        "strings.visit_investigation_not_sure"
    )


def test_no_investigation_means_the_policy_does_not_apply(runtime: Runtime) -> None:
    add_people(runtime)
    visitor = Console(runtime, VISITOR)
    visitor.say("visit a victim")
    visitor.pick("victim")
    assert keys(visitor.pick("no")) == ["strings.visit_policy_not_applicable", "strings.anything_else"]
    assert queued(runtime) == []


def test_the_chief_executive_may_decide_acting_for_the_commissioner(runtime: Runtime) -> None:
    add_people(runtime, commissioner=False)
    reference = ask(runtime)
    guidance(runtime, reference)
    chief = Console(runtime, CHIEF_EXECUTIVE)
    chief.resume()
    # Nobody holds the Commissioner's role: the Chief Executive is told, and may act for them.
    assert keys(chief.pick("refer")) == ["strings.visit_no_commissioner", "strings.anything_else"]
    chief = Console(runtime, CHIEF_EXECUTIVE)
    chief._send(pick=ChoicePick(step=card_step("visit_action", reference), value="record_issues"))
    assert keys(chief.last) == ["strings.visit_step_already_done", "strings.anything_else"]
    with runtime.sessions.begin() as session:
        stored = session.scalars(select(VisitRequest).where(VisitRequest.reference == reference)).one()
        step = next(s for s in stored.steps if s.code == "decision")
        assert step.status == "open"
    # From the decision step, the Chief Executive approves on the Commissioner's behalf.
    chief._send(pick=ChoicePick(step=card_step("visit_action", reference), value="approve"))
    assert keys(chief.last) == ["strings.ask_visit_plan"]
    chief.say("Visit with the officer in the case")
    assert keys(chief.say("no")) == ["strings.visit_approved", "strings.anything_else"]
    stored = request(runtime, reference)
    assert (stored.status, stored.decided_as, stored.debrief_wanted) == (
        "approved",
        "chief_executive_for_commissioner",
        False,
    )
    [told] = Console(runtime, VISITOR).inbox()
    assert runtime.pack.text("strings.visit_decided_as_chief_executive_for_commissioner") in [
        fact.value for fact in told.facts
    ]
    with runtime.sessions() as session:
        steps = {s.code: s.status for s in session.scalars(select(VisitStep))}
    assert "debrief" not in steps and steps["await_permission"] == "done"


def test_only_the_protocols_people_ask_or_act(runtime: Runtime) -> None:
    add_people(runtime)
    stranger = Console(runtime, "pc.amy.hart@example.police.uk")
    assert keys(stranger.say("visit a victim")) == ["strings.visit_not_visitor", "strings.anything_else"]
    reference = ask(runtime)
    # A visitor pressing the Chief Executive's button is refused, and the refusal audited.
    visitor = Console(runtime, VISITOR)
    visitor._send(pick=ChoicePick(step=card_step("visit_action", reference), value="seek_guidance"))
    assert keys(visitor.last) == ["strings.visit_denied", "strings.anything_else"]
    visitor._send(pick=ChoicePick(step=card_step("visit_action", "OV-2026-9999"), value="seek_guidance"))
    assert keys(visitor.last) == ["strings.visit_not_found", "strings.anything_else"]
    # Someone with no part in the protocol cannot tell a request that exists from one that does not.
    for asked in (reference, "OV-2026-9999"):
        stranger._send(pick=ChoicePick(step=card_step("visit_action", asked), value="seek_guidance"))
        assert keys(stranger.last) == ["strings.visit_not_found", "strings.anything_else"]
    with runtime.sessions() as session:
        rows = audit_rows(session=session)
        refusals = [r for r in rows if r.action == "denied" and r.purpose == "visit"]
        probes = [(r.action, r.detail) for r in rows if r.purpose == "probe"]
    assert [r.detail for r in refusals] == [f"visit {reference}"]
    assert probes == [
        ("not_found", "visit OV-2026-9999"),
        ("denied", f"visit {reference}"),
        ("not_found", "visit OV-2026-9999"),
    ]


def test_the_visitor_is_told_not_to_visit_yet_at_each_step_until_a_decision(runtime: Runtime) -> None:
    add_people(runtime)
    reference = ask(runtime)
    visitor = Console(runtime, VISITOR)
    assert visitor.inbox() == []  # the briefing itself already said so
    guidance(runtime, reference)  # guidance sought, guidance given, issues recorded
    told = visitor.inbox()
    assert keys(told) == ["strings.visit_card_not_yet"] * 3 and reference in told[0].text
    chief = Console(runtime, CHIEF_EXECUTIVE)
    chief.resume()
    assert keys(chief.pick("refer")) == ["strings.visit_referred", "strings.anything_else"]
    with runtime.sessions() as session:
        waiting = session.scalars(
            select(Nudge.status).where(Nudge.kind == "visit_not_yet").order_by(Nudge.id)
        ).all()
    assert list(waiting) == ["sent"] * 3 + ["pending"]  # referred: told once more
    commissioner = Console(runtime, COMMISSIONER)
    commissioner.inbox()
    commissioner.pick("decline")
    commissioner.say("Not while the hearing is pending")
    assert request(runtime, reference).status == "declined"
    # Decided: the "not decided yet" card still waiting is withdrawn, never shown after the decision.
    assert keys(visitor.inbox()) == ["strings.visit_card_declined"]
