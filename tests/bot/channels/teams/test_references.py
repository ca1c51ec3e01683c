"""Conversation references are our own wire JSON: one SDK's stored reference works with the other.

A force switching SDKs keeps its people's chats: the bot, served by one SDK, stores the reference
when it is added to a chat; a reminder is then sent through the other SDK's channel from that
stored reference, and reaches the same chat at the mock Bot Connector.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.app import create_app
from bot.channels.outbound import Address, Delivery
from bot.channels.teams.proactive import make_teams_channel
from bot.channels.teams.references import conversation_reference, read_reference
from bot.channels.teams.sdk import SDKS, Sdk
from bot.runtime import build_runtime
from bot.settings import Settings
from dialogs.types import Reply
from store.models import ChannelIdentity
from tests.conftest import FakeClock
from tests.fake_teams import TeamsUser, bot_added, new_guid, running, use_sdk

VICTIM = TeamsUser("PC Test Victim", "pc.test.victim@example.police.uk")
NUDGE = Reply(key="strings.nudge", text="You have an update on case OH-2026-0001.")


@pytest.mark.parametrize(("writer", "reader"), [(w, r) for w in SDKS for r in SDKS if w != r])
def test_a_reference_stored_through_one_sdk_reaches_the_chat_through_the_other(
    engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, writer: Sdk, reader: Sdk
) -> None:
    tenant = new_guid()
    settings = Settings(allow_unauthenticated=True, microsoft_app_tenant_id=tenant)
    runtime = build_runtime(settings, clock=clock, engine=engine, migrate=False)
    use_sdk(monkeypatch, writer)
    delivered: list[Delivery] = []

    async def main() -> None:
        async with running(lambda connector: create_app(runtime)) as bot:
            assert (await bot.post(bot_added(**bot.who(VICTIM, tenant)))).status == 200
            with runtime.sessions.begin() as session:
                identity = session.scalars(select(ChannelIdentity)).one()
                stored = Address(
                    identity.channel, identity.tenant, identity.user_id, dict(identity.address or {})
                )
            channel = make_teams_channel(settings, pack=runtime.pack, clock=clock, sdk=reader)
            assert channel is not None
            delivered.append(await channel.send(stored, [NUDGE]))
            greeting, nudge = bot.connector.posted
            assert greeting.keys == ["strings.greeting"] and nudge.keys == ["strings.nudge"]
            assert nudge.conversation_id == greeting.conversation_id == f"a:{VICTIM.aad}"
            assert nudge.body["recipient"]["id"] == VICTIM.id
            assert nudge.body["from"]["id"] == greeting.body["from"]["id"]
            assert bot.connector.invalid_cards == []

    asyncio.run(main())
    assert delivered == [Delivery("sent", message_id="m2", attempts=1)]


def test_a_reference_is_written_from_the_activity_and_read_back() -> None:
    activity: dict[str, Any] = {
        "type": "message",
        "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/uk/",
        "from": {"id": "29:1", "name": "PC Test Victim", "aadObjectId": "aad-1"},
        "recipient": {"id": "28:bot", "name": "Op Hampshire"},
        "conversation": {"id": "a:1", "conversationType": "personal", "tenantId": "t-1"},
        "locale": "en-GB",
        "text": "never stored",
    }
    reference = conversation_reference(activity)
    assert reference == {
        "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/uk/",
        "conversation": {"id": "a:1", "conversationType": "personal", "tenantId": "t-1"},
        "user": {"id": "29:1", "name": "PC Test Victim", "aadObjectId": "aad-1"},
        "bot": {"id": "28:bot", "name": "Op Hampshire"},
        "locale": "en-GB",
    }
    read = read_reference(reference)
    assert read is not None
    assert (read.service_url, read.conversation_id, read.tenant_id, read.user_id, read.bot_id) == (
        "https://smba.trafficmanager.net/uk/",
        "a:1",
        "t-1",
        "29:1",
        "28:bot",
    )
