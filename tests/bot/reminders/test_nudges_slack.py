"""Reminders through Slack: to the DM with buttons, through 429s, and exactly once across a crash."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.slack.adapter import METADATA_EVENT, SlackChannel, make_slack_channel
from bot.reminders.delivery import Deliverer, DeliveryReport
from bot.runtime import Runtime
from dialogs.render import point_title
from store.models import Nudge, PlanPoint
from tests.bot.helpers import report, sweep
from tests.conftest import START, FakeClock
from tests.slack_mock import SlackRig, is_nudge, reply_keys

SERGEANT = "U0SERGEANT"


class WorkerKilled(BaseException):
    """Stands for the process dying: no handler in the delivery code catches it."""


DUE = START + timedelta(hours=25)


@pytest.fixture
def rig(runtime: Runtime) -> Iterator[SlackRig]:
    rig = SlackRig(runtime)
    rig.mock.add_user(SERGEANT, "sgt.ravi.kaur@example.police.uk", name="Sgt Ravi Kaur")
    yield rig
    rig.close()


def slack_channel(rig: SlackRig) -> tuple[SlackChannel, list[float]]:
    channel = make_slack_channel(rig.runtime.settings, rig.runtime.pack)
    assert channel is not None
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    channel.sleep = record
    return channel, waits


def deliver(rig: SlackRig, channel: SlackChannel, worker: str = "w1", batch: int = 200) -> DeliveryReport:
    runtime = rig.runtime
    deliverer = Deliverer(
        pack=runtime.pack,
        sessions=runtime.sessions,
        clock=runtime.clock,
        channels={"slack": channel},
        worker=worker,
        batch=batch,
        concurrency=batch,
    )
    return rig.loop.run(deliverer.run_once())


def queue_reminders(rig: SlackRig, clock: FakeClock) -> int:
    """The sergeant, known on Slack, reports a case; a day later its reminders are queued."""
    rig.dm(SERGEANT, "hello")
    rig.settle()
    report(rig.runtime, consent="no")
    clock.now = DUE
    return sweep(rig.runtime, DUE).queued


def reminders(rig: SlackRig) -> list[dict[str, Any]]:
    """The reminders Slack accepted into the sergeant's DM (refused calls are not messages; replies
    to turns carry a reply key)."""
    return [m for m in rig.mock.history.get(f"D{SERGEANT}", []) if is_nudge(m)]


def test_a_reminder_reaches_the_dm_and_its_done_button_closes_the_point(
    rig: SlackRig, clock: FakeClock
) -> None:
    queued = queue_reminders(rig, clock)
    assert queued == 1  # the day's seven points, in one message
    channel, _ = slack_channel(rig)
    assert deliver(rig, channel).sent == queued
    [sent] = reminders(rig)
    assert sent["metadata"]["event_type"] == METADATA_EVENT
    [reminder] = rig.messages_to(SERGEANT)[-1:]
    keys = reply_keys(reminder["blocks"])
    assert keys == ["strings.nudge"] + ["strings.nudge_point"] * 7
    buttons = list(rig.buttons(reminder))
    assert (
        len(buttons) == 7 * 3 and len({b["text"]["text"] for b in buttons}) == 7 * 3
    )  # each names its point
    leaflet = point_title(rig.runtime.pack, "leaflet_given")
    done = next(b for b in buttons if b["text"]["text"].startswith(f"Done: {leaflet}"[:40]))
    assert rig.click(SERGEANT, done, message_ts=sent["ts"]).status == 200
    rig.settle()
    # The reminder is updated in place: the leaflet shows who did it, its buttons are gone.
    [update] = rig.mock.calls_to("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (f"D{SERGEANT}", sent["ts"])
    blocks = (
        json.loads(update.args["blocks"]) if isinstance(update.args["blocks"], str) else update.args["blocks"]
    )
    assert reply_keys(blocks).count("strings.nudge_answered_done") == 1
    left = [b["text"]["text"] for b in rig.buttons({"blocks": blocks})]
    assert len(left) == 6 * 3 and not any(leaflet[:30] in label for label in left)
    assert "Sgt Ravi Kaur" in json.dumps(blocks)
    with rig.runtime.sessions() as session:
        point = session.scalar(select(PlanPoint).where(PlanPoint.code == "leaflet_given"))
        assert point is not None and point.status == "done"
        rows = session.scalars(select(Nudge)).all()
        assert all(r.status == "sent" and r.channel == "slack" and r.platform_message_id for r in rows)


def test_a_429_delays_the_reminder_but_loses_nothing(rig: SlackRig, clock: FakeClock) -> None:
    queued = queue_reminders(rig, clock)
    rig.mock.fail("chat.postMessage", 429, retry_after=3, times=2)
    channel, waits = slack_channel(rig)
    assert deliver(rig, channel).sent == queued
    assert waits.count(3) == 2
    assert len(reminders(rig)) == queued


def test_a_worker_killed_after_slack_accepted_is_reconciled_without_a_duplicate(
    rig: SlackRig, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = queue_reminders(rig, clock)
    channel, _ = slack_channel(rig)

    def killed(*args: object) -> None:
        raise WorkerKilled("after the send, before recording it")

    with monkeypatch.context() as patch:
        patch.setattr(Deliverer, "_record", killed)
        with pytest.raises(WorkerKilled):
            # One message in flight: a real crash takes every in-flight send down with it, which
            # other tasks on the test's shared event loop would survive.
            deliver(rig, channel, worker="dies", batch=1)
    accepted = len(reminders(rig))
    assert accepted == 1
    clock.advance(minutes=6)  # the lease of the dead worker runs out
    result = deliver(rig, channel, worker="survivor")
    assert result.reconciled == accepted
    posted = [m["metadata"]["event_payload"]["key"] for m in reminders(rig)]
    assert len(posted) == len(set(posted)) == queued
    assert len(rig.mock.calls_to("conversations.history")) == accepted


def test_not_applicable_updates_the_reminder_once_the_reason_is_given(
    rig: SlackRig, clock: FakeClock
) -> None:
    queue_reminders(rig, clock)
    channel, _ = slack_channel(rig)
    deliver(rig, channel)
    [sent] = reminders(rig)
    [reminder] = rig.messages_to(SERGEANT)[-1:]
    esafety = point_title(rig.runtime.pack, "esafety_report")
    button = next(
        b for b in rig.buttons(reminder) if b["text"]["text"].startswith(f"Not applicable: {esafety}"[:40])
    )
    rig.click(SERGEANT, button, message_ts=sent["ts"])
    rig.settle()
    assert reply_keys(rig.messages_to(SERGEANT)[-1]["blocks"]) == ["strings.ask_na_reason"]
    assert rig.mock.calls_to("chat.update") == []  # nothing answered yet: the buttons stay
    rig.dm(SERGEANT, "Completed by the custody sergeant")
    rig.settle()
    [update] = rig.mock.calls_to("chat.update")  # found again from the outbox: the DM, the reminder's ts
    assert (update.args["channel"], update.args["ts"]) == (f"D{SERGEANT}", sent["ts"])
    blocks = (
        json.loads(update.args["blocks"]) if isinstance(update.args["blocks"], str) else update.args["blocks"]
    )
    assert reply_keys(blocks).count("strings.nudge_answered_not_applicable") == 1
    assert len(list(rig.buttons({"blocks": blocks}))) == 6 * 3
