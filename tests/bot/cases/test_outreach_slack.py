"""Points 9 and 10 over Slack: the leaflet in the victim's DM once they first use the bot, the
supervisor asked to hand it over meanwhile, and reminders that say what to do with the contacts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.channels.slack.adapter import make_slack_channel
from bot.reminders.delivery import Deliverer, DeliveryReport
from bot.runtime import Runtime
from dialogs.render import fill
from tests.bot.helpers import SUPERVISOR, VICTIM, point, report, sweep
from tests.conftest import START, FakeClock
from tests.dialogs.test_leaflet import SECTIONS
from tests.slack_mock import SlackRig, is_nudge, reply_keys

SERGEANT = "U0SERGEANT"
AMY = "U0AMY"
LEAFLET = [*SECTIONS, "strings.leaflet_io_pending", "strings.leaflet_contacts"]


@pytest.fixture
def rig(runtime: Runtime) -> Iterator[SlackRig]:
    rig = SlackRig(runtime)
    rig.mock.add_user(SERGEANT, SUPERVISOR, name="Sgt Ravi Kaur")
    rig.mock.add_user(AMY, VICTIM, name="PC Amy Hart")
    yield rig
    rig.close()


def deliver(rig: SlackRig) -> DeliveryReport:
    channel = make_slack_channel(rig.runtime.settings, rig.runtime.pack)
    assert channel is not None
    deliverer = Deliverer(
        pack=rig.runtime.pack,
        sessions=rig.runtime.sessions,
        clock=rig.runtime.clock,
        channels={"slack": channel},
        worker="w1",
    )
    return rig.loop.run(deliverer.run_once())


def keys_to(rig: SlackRig, user: str) -> list[list[str]]:
    return [reply_keys(m["blocks"]) for m in rig.messages_to(user) if is_nudge(m)]


def test_the_leaflet_waits_for_the_victims_first_message_and_the_supervisor_hands_it_over(
    rig: SlackRig,
) -> None:
    rig.dm(SERGEANT, "hello")
    rig.settle()
    reference = report(rig.runtime, consent="yes")
    assert deliver(rig).held == 1  # Amy has never used the bot
    deliver(rig)
    assert keys_to(rig, SERGEANT) == [["strings.leaflet_handover"]]
    assert point(rig.runtime, reference, "leaflet_given").status == "open"
    rig.dm(AMY, "hello")
    rig.settle()
    assert deliver(rig).sent == 1
    assert keys_to(rig, AMY) == [LEAFLET]
    assert point(rig.runtime, reference, "leaflet_given").status == "done"


def test_the_reminder_in_slack_says_what_to_do_and_shows_the_associations_contacts(
    rig: SlackRig, clock: FakeClock
) -> None:
    rig.dm(SERGEANT, "hello")
    rig.settle()
    report(rig.runtime, consent="no", tell_association="no")
    clock.now = START + timedelta(hours=25)
    sweep(rig.runtime, clock.now)
    deliver(rig)
    [reminder] = [m for m in rig.messages_to(SERGEANT) if is_nudge(m)]
    shown = json.dumps(reminder["blocks"])
    pack = rig.runtime.pack
    federation = fill(pack, "strings.association_police_federation")
    for text in (
        fill(pack, "strings.association_no_consent", association=federation),
        fill(pack, "strings.leaflet_no_consent"),
    ):
        assert text.splitlines()[0].split(":", 1)[1].strip()[:40] in shown, text
    assert "0121 700 1200" in shown and "westmidlandspf@polfed.org" in shown
