"""An OPCC visit request over Slack: DMs, cards posted by delivery, buttons pressed (seed 004)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.channels.slack.adapter import make_slack_channel
from bot.reminders.delivery import Deliverer
from bot.runtime import Runtime
from bot.visits.sweep import sweep_visits
from tests.bot.visits.helpers import CHIEF_EXECUTIVE, COMMISSIONER, LIAISON, VISITOR, add_people, request
from tests.channel import keys
from tests.conftest import FakeClock
from tests.slack_block_kit import assert_valid_blocks
from tests.slack_mock import SlackConversation, SlackRig, reply_keys


@pytest.fixture
def rig(runtime: Runtime) -> Iterator[SlackRig]:
    rig = SlackRig(runtime)
    yield rig
    rig.close()
    for call in rig.mock.calls_to("chat.postMessage"):
        assert_valid_blocks(call.args["blocks"])


def deliver(rig: SlackRig) -> int:
    """Send what the outbox holds, through Slack's Web API (mocked)."""
    channel = make_slack_channel(rig.runtime.settings, rig.runtime.pack)
    assert channel is not None
    deliverer = Deliverer(
        pack=rig.runtime.pack,
        sessions=rig.runtime.sessions,
        clock=rig.runtime.clock,
        channels={"slack": channel},
        worker="w1",
    )
    return rig.loop.run(deliverer.run_once()).sent


def card(rig: SlackRig, person: SlackConversation) -> list[str]:
    """The card last posted to the person's DM becomes what they can press; its string ids."""
    person.last = rig.messages_to(person.user)[-1:]
    return reply_keys(person.last[0]["blocks"])


def test_a_request_over_slack_from_briefing_to_debrief(rig: SlackRig, clock: FakeClock) -> None:
    runtime = rig.runtime
    add_people(runtime)
    visitor, chief, commissioner, liaison = (
        rig.talk_as(email) for email in (VISITOR, CHIEF_EXECUTIVE, COMMISSIONER, LIAISON)
    )
    for person in (chief, commissioner, liaison):
        person.say("hello")  # known on Slack, so cards reach their DMs
    assert keys(visitor.say("visit a victim")) == ["strings.visit_intro", "strings.ask_visitee"]
    assert keys(visitor.pick("victim")) == ["strings.ask_investigation"]
    assert keys(visitor.pick("yes")) == ["strings.visit_must_wait", "strings.ask_visit_nature"]
    assert keys(visitor.say("To offer pastoral support after the fire")) == ["strings.ask_capacity"]
    assert keys(visitor.pick("pastoral")) == ["strings.ask_proposed_on"]
    assert keys(visitor.say("2026-12-04")) == ["strings.visit_summary"]
    assert keys(visitor.pick("confirm")) == [
        "strings.visit_requested",
        "strings.visit_must_wait",
        "strings.anything_else",
    ]

    assert deliver(rig) == 1
    assert card(rig, chief) == ["strings.visit_card_briefing"]
    assert keys(chief.pick("seek_guidance")) == ["strings.visit_guidance_sought", "strings.anything_else"]
    # At each step before permission the visitor is told again that the visit must not happen yet.
    assert deliver(rig) == 2
    assert card(rig, visitor) == ["strings.visit_card_not_yet"]
    assert card(rig, liaison) == ["strings.visit_card_guidance_ask"]
    assert keys(liaison.pick("no_concerns")) == ["strings.ask_guidance_no_concerns"]
    assert keys(liaison.say("skip")) == ["strings.visit_guidance_given", "strings.anything_else"]
    assert deliver(rig) == 2
    assert card(rig, visitor) == ["strings.visit_card_not_yet"]
    assert card(rig, chief) == ["strings.visit_card_guidance"]
    assert keys(chief.pick("record_issues")) == ["strings.ask_visit_issues"]
    assert keys(chief.say("None beyond timing")) == ["strings.ask_who_decides"]
    assert keys(chief.pick("refer")) == ["strings.visit_referred", "strings.anything_else"]
    assert deliver(rig) == 3  # issues recorded, then referred: told twice, and the Commissioner's card
    not_yet = [
        m for m in rig.messages_to(visitor.user) if reply_keys(m["blocks"]) == ["strings.visit_card_not_yet"]
    ]
    assert len(not_yet) == 4
    assert card(rig, commissioner) == ["strings.visit_card_decide"]
    assert keys(commissioner.pick("approve")) == ["strings.ask_visit_plan"]
    assert keys(commissioner.say("Visit on the day with the family liaison officer")) == [
        "strings.ask_debrief_wanted"
    ]
    assert keys(commissioner.pick("yes")) == ["strings.visit_approved", "strings.anything_else"]
    assert deliver(rig) == 1
    assert card(rig, visitor) == ["strings.visit_card_approved"]

    clock.advance(days=12)
    sweep_visits(runtime.pack, sessions=runtime.sessions, now=clock())
    assert deliver(rig) == 1
    assert card(rig, visitor) == ["strings.visit_nudge", "strings.visit_card_debrief_ask"]
    assert keys(visitor.pick("debrief")) == ["strings.ask_visit_debrief"]
    assert keys(visitor.say("The family were grateful")) == [
        "strings.visit_debriefed",
        "strings.anything_else",
    ]
    assert request(runtime, "OV-2026-0001").status == "debriefed"
    assert deliver(rig) == 1
    assert card(rig, chief) == ["strings.visit_card_debriefed"]
