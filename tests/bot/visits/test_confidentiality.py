"""No case detail reaches the OPCC: only the force's guidance does (seed 004, issue 11).

The force's liaison here is the supervisor who reported a real case, so knows its details; the
visit is about that case's victim. Whatever the liaison tries to pass on, nothing the case holds
(its reference, the victim, the place, the injury, the crime number) appears in anything the
Commissioner's office is sent or shown, and nobody in the office reads the case.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.runtime import Runtime
from store.models import AccessAudit, Nudge, Person
from store.people import add_role, ensure_person
from tests.bot.helpers import SUPERVISOR, VICTIM, report
from tests.bot.visits.helpers import CHIEF_EXECUTIVE, COMMISSIONER, OPCC, VISITOR, Console, add_people
from tests.bot.visits.test_console import ask
from tests.channel import keys


def test_no_case_detail_reaches_the_opcc(runtime: Runtime) -> None:
    reference = report(runtime, hospital=True)
    secrets = [reference, VICTIM, "Broad Street", "Bruised ribs"]
    add_people(runtime, liaison=False)
    with runtime.sessions.begin() as session:
        liaison = ensure_person(session=session, email=SUPERVISOR, now=runtime.clock())
        add_role(session=session, person=liaison, role="opcc_liaison")

    visit = ask(runtime)
    chief = Console(runtime, CHIEF_EXECUTIVE)
    shown = chief.inbox()
    chief.pick("seek_guidance")
    liaison_console = Console(runtime, SUPERVISOR)
    liaison_console.inbox()
    liaison_console.pick("concerns")
    for leak in (f"Wait: {reference} is at charging stage", f"Speak to {VICTIM} first"):
        assert keys(liaison_console.say(leak)) == [
            "strings.visit_guidance_case_detail",
            "strings.ask_guidance_concerns",
        ]
    assert keys(liaison_console.say("Please wait until after the hearing next month.")) == [
        "strings.visit_guidance_given",
        "strings.anything_else",
    ]
    shown += chief.inbox()
    chief.pick("record_issues")
    chief.say("Timing only")
    chief.pick("refer")
    commissioner = Console(runtime, COMMISSIONER)
    shown += commissioner.inbox()
    commissioner.pick("approve")
    commissioner.say("After the hearing")
    commissioner.say("no")
    shown += Console(runtime, VISITOR).inbox()
    assert {r.key for r in shown} >= {"strings.visit_card_guidance", "strings.visit_card_decide"}

    with runtime.sessions() as session:
        opcc = {p.id for p in session.scalars(select(Person).where(Person.email.in_(OPCC)))}
        payloads = [row.payload for row in session.scalars(select(Nudge).where(Nudge.recipient_id.in_(opcc)))]
        # Nobody in the office opened, listed or was refused the case.
        assert (
            session.scalars(
                select(AccessAudit).where(AccessAudit.person_id.in_(opcc), AccessAudit.case_id.is_not(None))
            ).all()
            == []
        )
    assert payloads
    everything = json.dumps(payloads) + json.dumps([r.model_dump() for r in shown])
    for secret in secrets:
        assert secret not in everything, secret
    assert "Please wait until after the hearing next month." in everything
    assert visit.startswith("OV-")
