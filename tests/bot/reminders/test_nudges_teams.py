"""A reminder's whole journey through Teams: swept, sent as a card, its button pressed in the chat."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.app import create_app
from bot.channels.configured import push_channels
from bot.conversation import RuntimePort
from bot.reminders.scheduler import PlanKeeper
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from store.models import Nudge, PlanPoint
from tests.bot.helpers import report
from tests.channel import Conversation
from tests.conftest import START, FakeClock
from tests.fake_teams import Bot, Posted, TeamsUser, bot_added, message, new_guid, running, sdk, submit

__all__ = ["sdk"]  # the fixture: each test runs once per Teams SDK

pytestmark = pytest.mark.usefixtures("sdk")

SUPERVISOR = TeamsUser("Sgt Test Supervisor", "sgt.ravi.kaur@example.police.uk")


def reported(engine: Engine, clock: FakeClock) -> tuple[Runtime, Settings, str, str]:
    """A case reported, on a bot for one tenant in the local (unauthenticated) Teams mode."""
    tenant = new_guid()
    settings = Settings(allow_unauthenticated=True, microsoft_app_tenant_id=tenant)
    runtime = build_runtime(settings, clock=clock, engine=engine, migrate=False)
    reference = report(runtime, consent="no")
    Conversation(RuntimePort(runtime), SUPERVISOR.email).say("cancel")
    return runtime, settings, tenant, reference


async def reminded(
    bot: Bot, runtime: Runtime, settings: Settings, tenant: str, clock: FakeClock
) -> tuple[dict[str, Any], Posted, str]:
    """The supervisor in the Teams chat, and the day's reminder card sent there (with its id)."""
    who = bot.who(SUPERVISOR, tenant)
    assert (await bot.post(bot_added(**who))).status == 200  # the chat's reference is stored
    clock.now = START + timedelta(hours=25)
    before = len(bot.connector.posted)
    tick = await PlanKeeper(runtime, push_channels(settings, pack=runtime.pack, clock=runtime.clock)).tick()
    assert tick.delivery.sent == tick.sweep.queued > 0
    [reminder] = bot.connector.posted[before:]  # the day's seven points, in one card
    with runtime.sessions() as session:
        [card_id] = session.scalars(select(Nudge.platform_message_id)).all()
    assert card_id is not None
    return who, reminder, card_id


def point_id(runtime: Runtime, code: str) -> int:
    with runtime.sessions() as session:
        found = session.scalar(select(PlanPoint.id).where(PlanPoint.code == code))
    assert found is not None
    return found


def test_a_nudge_goes_to_the_teams_chat_and_its_done_button_closes_the_point(
    engine: Engine, clock: FakeClock
) -> None:
    runtime, settings, tenant, reference = reported(engine, clock)

    async def scenario() -> None:
        async with running(lambda connector: create_app(runtime)) as bot:
            who, reminder, card_id = await reminded(bot, runtime, settings, tenant, clock)
            assert reminder.keys == ["strings.nudge"] + [
                f"strings.nudge_point#{n}" if n > 1 else "strings.nudge_point" for n in range(1, 8)
            ]
            buttons = reminder.choices()
            assert len(buttons) == 7 * 3 and len({b["step"] for b in buttons}) == 7
            leaflet_id = point_id(runtime, "leaflet_given")
            done = next(b for b in buttons if b["value"] == "done" and f"/{leaflet_id}/" in b["step"])
            assert done["step"].startswith(f"__nudge__/{reference}/")
            after = len(bot.connector.posted)
            assert (await bot.post(submit(done, replyToId=card_id, **who))).status == 200
            [answer] = bot.connector.posted[after:]
            assert answer.keys == ["strings.point_marked_done", "strings.anything_else"]
            # The card is updated in place: the leaflet answered (by whom), its buttons gone.
            [(updated_id, updated)] = bot.connector.updated
            assert updated_id == card_id
            assert "strings.nudge_answered_done" in [k.split("#")[0] for k in updated.keys]
            assert SUPERVISOR.name in str(updated.cards)
            left = updated.choices()
            assert len(left) == 6 * 3 and not any(f"/{leaflet_id}/" in b["step"] for b in left)
            assert bot.connector.invalid_cards == []

    asyncio.run(scenario())
    with runtime.sessions() as session:
        leaflet = session.scalar(select(PlanPoint).where(PlanPoint.code == "leaflet_given"))
        assert leaflet is not None and leaflet.status == "done"
        sent = session.scalars(select(Nudge)).all()
        assert sent and all(
            n.status == "sent" and n.channel == "msteams" and n.platform_message_id for n in sent
        )


def test_not_applicable_updates_the_card_once_the_reason_is_typed(engine: Engine, clock: FakeClock) -> None:
    runtime, settings, tenant, _ = reported(engine, clock)

    async def scenario() -> None:
        async with running(lambda connector: create_app(runtime)) as bot:
            who, reminder, card_id = await reminded(bot, runtime, settings, tenant, clock)
            esafety = point_id(runtime, "esafety_report")
            button = next(
                b
                for b in reminder.choices()
                if b["value"] == "not_applicable" and f"/{esafety}/" in b["step"]
            )
            assert (await bot.post(submit(button, replyToId=card_id, **who))).status == 200
            assert bot.connector.updated == []  # asked for the reason: nothing answered yet
            assert (await bot.post(message("Done by the custody sergeant", **who))).status == 200
            [(updated_id, updated)] = bot.connector.updated
            assert updated_id == card_id
            assert "strings.nudge_answered_not_applicable" in [k.split("#")[0] for k in updated.keys]
            assert not any(f"/{esafety}/" in b["step"] for b in updated.choices())
            assert len(updated.choices()) == 6 * 3 and bot.connector.invalid_cards == []

    asyncio.run(scenario())
