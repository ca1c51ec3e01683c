"""Pending visit steps are chased like plan points: reminded, escalated, withdrawn once done."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.runtime import Runtime
from bot.visits.sweep import sweep_visits
from dialogs.types import ChoicePick
from dialogs.visits import card_step
from store.models import Nudge
from tests.bot.visits.helpers import (
    CHIEF_EXECUTIVE,
    COMMISSIONER,
    VISITOR,
    Console,
    add_people,
    queued,
    timeline,
)
from tests.bot.visits.test_console import VISIT_DAY, ask
from tests.channel import keys
from tests.conftest import FakeClock


def sweep(runtime: Runtime, clock: FakeClock) -> None:
    sweep_visits(runtime.pack, sessions=runtime.sessions, now=clock())


def test_the_chief_executive_is_reminded_then_the_commissioner_told(
    runtime: Runtime, clock: FakeClock
) -> None:
    add_people(runtime)
    reference = ask(runtime)
    briefing = queued(runtime)
    assert briefing == [("visit_briefing", CHIEF_EXECUTIVE)]
    clock.advance(hours=23)
    sweep(runtime, clock)
    assert queued(runtime) == briefing  # not due yet: one working day
    clock.advance(hours=1)
    sweep(runtime, clock)
    sweep(runtime, clock)  # a second sweep at the same time queues nothing twice
    assert queued(runtime) == [*briefing, ("visit_nudge", CHIEF_EXECUTIVE)]
    clock.advance(hours=48)
    sweep(runtime, clock)
    assert queued(runtime)[2:] == [("visit_nudge", CHIEF_EXECUTIVE), ("visit_escalation", COMMISSIONER)]
    assert timeline(runtime, reference) == ["visit_requested", "visit_step_escalated"]
    [escalation] = Console(runtime, COMMISSIONER).inbox()
    assert escalation.key == "strings.visit_escalation" and not escalation.choices
    # The Chief Executive acts: the reminders still waiting for them are withdrawn, never sent.
    clock.advance(hours=24)
    sweep(runtime, clock)
    chief = Console(runtime, CHIEF_EXECUTIVE)
    chief._send(pick=ChoicePick(step=card_step("visit_action", reference), value="seek_guidance"))
    assert keys(chief.last) == ["strings.visit_guidance_sought", "strings.anything_else"]
    with runtime.sessions() as session:
        reminders = session.scalars(
            select(Nudge.status).where(Nudge.kind == "visit_nudge").order_by(Nudge.id)
        )
        assert set(reminders) == {"withdrawn"}


def test_the_visitor_is_reminded_not_to_visit_until_permission(runtime: Runtime, clock: FakeClock) -> None:
    add_people(runtime)
    ask(runtime)
    day_before = datetime.fromisoformat(f"{VISIT_DAY}T00:00").replace(tzinfo=ZoneInfo("Europe/London"))
    clock.now = day_before.replace(day=3)
    sweep(runtime, clock)
    visitor = Console(runtime, VISITOR)
    assert keys(visitor.inbox()) == ["strings.visit_card_not_yet"]
    clock.advance(hours=24)
    sweep(runtime, clock)
    assert keys(visitor.inbox()) == ["strings.visit_card_not_yet"]  # daily until a decision


def test_steps_escalated_to_one_person_in_one_sweep_are_one_message(
    runtime: Runtime, clock: FakeClock
) -> None:
    add_people(runtime)
    first = ask(runtime)
    second = ask(runtime, text="visit a victim")
    clock.advance(hours=24 + 48)  # both briefings overdue past their escalation time
    sweep(runtime, clock)
    sweep(runtime, clock)  # again at the same time: nothing twice
    escalations = [row for row in queued(runtime) if row[0] == "visit_escalation"]
    assert escalations == [("visit_escalation", COMMISSIONER)]
    told = Console(runtime, COMMISSIONER).inbox()
    assert keys(told) == ["strings.visit_escalation", "strings.visit_escalation"]
    assert first in told[0].text and second in told[1].text
    assert (
        timeline(runtime, first) == timeline(runtime, second) == ["visit_requested", "visit_step_escalated"]
    )
