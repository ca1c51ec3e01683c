"""An OPCC visit request in the console, from the visitor's briefing to the debrief (seed 004).

Each person talks to the bot in their own console; the cards the protocol sends them wait in the
outbox until they open it (`Console.inbox`), and their buttons start the visit flow there.
"""

from __future__ import annotations

from bot.runtime import Runtime
from bot.visits.sweep import sweep_visits
from store.audit import audit_rows
from store.models import Person
from tests.bot.visits.helpers import (
    CHIEF_EXECUTIVE,
    COMMISSIONER,
    LIAISON,
    VISITOR,
    Console,
    add_people,
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
    reference = ask(runtime)
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
        (CHIEF_EXECUTIVE, "update"),
        (LIAISON, "update"),
        (COMMISSIONER, "update"),
        (VISITOR, "update"),
    }
