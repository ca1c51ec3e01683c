"""Proactive Teams sends through the shared channel seam: Retry-After, backoff, never silent.

`TeamsChannel.send` posts to a mock Bot Connector scripted to throttle, fail or stall. Waits are
recorded instead of slept, so the tests show exactly how long the channel would wait, and the
connector counts every request, so they also show that neither SDK retries behind our back.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.app import create_app
from bot.channels.outbound import Address, Delivery, RetryPolicy
from bot.channels.teams.options import TeamsOptions, retry_after_seconds
from bot.channels.teams.proactive import TeamsChannel, make_teams_channel
from bot.runtime import build_runtime
from bot.settings import Settings
from dialogs.schema import Pack
from dialogs.types import Fact, Reply
from store.models import ChannelIdentity
from tests.conftest import START, FakeClock
from tests.fake_teams import BOT, MockConnector, TeamsUser, bot_added, new_guid, running

pytestmark = pytest.mark.usefixtures("sdk")

VICTIM = TeamsUser("PC Test Victim", "pc.test.victim@example.police.uk")
NUDGE = Reply(
    key="strings.nudge",
    text="You have an update on case OH-2026-0001.",
    facts=(Fact(label="Reference", value="OH-2026-0001"),),
)


def address(connector: MockConnector, tenant: str, **changes: Any) -> Address:
    data = {
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "conversation": {"id": f"a:{VICTIM.aad}", "conversationType": "personal", "tenantId": tenant},
        "user": {"id": VICTIM.id, "name": VICTIM.name, "aadObjectId": VICTIM.aad},
        "bot": dict(BOT),
        **changes,
    }
    return Address("msteams", tenant, VICTIM.aad, data)


def teams_channel(
    pack: Pack, tenant: str, waits: list[float], clock: FakeClock, **options: Any
) -> TeamsChannel:
    async def record(seconds: float) -> None:
        waits.append(seconds)

    settings = Settings(allow_unauthenticated=True, microsoft_app_tenant_id=tenant)
    channel = make_teams_channel(
        settings, pack=pack, clock=clock, options=TeamsOptions(sleep=record, **options)
    )
    assert channel is not None
    return channel


def with_connector(scenario: Callable[[MockConnector], Awaitable[None]]) -> None:
    async def main() -> None:
        connector = MockConnector()
        await connector.start()
        try:
            await scenario(connector)
            assert connector.invalid_cards == []
        finally:
            await connector.close()

    asyncio.run(main())


def test_a_nudge_reaches_the_chat_whose_reference_a_conversation_stored(
    engine: Engine, clock: FakeClock, pack: Pack
) -> None:
    tenant = new_guid()
    runtime = build_runtime(
        Settings(allow_unauthenticated=True, microsoft_app_tenant_id=tenant),
        clock=clock,
        engine=engine,
        migrate=False,
    )
    delivered: list[Delivery] = []

    async def main() -> None:
        async with running(lambda connector: create_app(runtime)) as bot:
            who = bot.who(VICTIM, tenant)
            await bot.post(bot_added(**who))
            with runtime.sessions.begin() as session:
                identity = session.scalars(select(ChannelIdentity)).one()
                stored = Address(
                    identity.channel, identity.tenant, identity.user_id, dict(identity.address or {})
                )
            channel = teams_channel(pack, tenant, [], clock)
            delivered.append(await channel.send(stored, [NUDGE]))
            posted = bot.connector.posted[-1]
            assert posted.conversation_id == f"a:{VICTIM.aad}"
            assert posted.keys == ["strings.nudge"]
            assert posted.body["recipient"]["id"] == VICTIM.id
            assert bot.connector.invalid_cards == []

    asyncio.run(main())
    assert delivered == [Delivery("sent", message_id="m2", attempts=1)]


def test_retry_after_is_honoured(pack: Pack, clock: FakeClock) -> None:
    waits: list[float] = []

    async def scenario(connector: MockConnector) -> None:
        tenant = new_guid()
        connector.fail_next(
            (429, {"Retry-After": "3"}), (429, {"Retry-After": format_datetime(START + timedelta(seconds=7))})
        )
        delivery = await teams_channel(pack, tenant, waits, clock).send(address(connector, tenant), [NUDGE])
        assert delivery == Delivery("sent", message_id="m1", attempts=3)
        assert connector.requests == 3

    with_connector(scenario)
    assert waits == [3.0, 7.0]


@pytest.mark.parametrize("status", [412, 429, 500, 502, 503, 504])
def test_throttling_and_server_errors_are_retried_with_backoff(
    pack: Pack, clock: FakeClock, status: int
) -> None:
    waits: list[float] = []

    async def scenario(connector: MockConnector) -> None:
        tenant = new_guid()
        connector.fail_next((status, {}), (status, {}))
        delivery = await teams_channel(pack, tenant, waits, clock).send(address(connector, tenant), [NUDGE])
        assert delivery.status == "sent" and delivery.attempts == 3
        assert connector.requests == 3  # msrest did not retry behind our back
        assert len(connector.posted) == 1

    with_connector(scenario)
    assert len(waits) == 2 and 0.25 <= waits[0] <= 0.75 and 0.5 <= waits[1] <= 1.5


def test_a_platform_that_keeps_failing_ends_in_failed_never_silence(pack: Pack, clock: FakeClock) -> None:
    waits: list[float] = []

    async def scenario(connector: MockConnector) -> None:
        tenant = new_guid()
        connector.fail_next(*[(503, {})] * 10)
        policy = RetryPolicy(attempts=4)
        channel = teams_channel(pack, tenant, waits, clock, send_policy=policy)
        delivery = await channel.send(address(connector, tenant), [NUDGE])
        assert delivery == Delivery("failed", error="http 503", attempts=4)
        assert connector.requests == 4

    with_connector(scenario)
    assert len(waits) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413])
def test_errors_a_retry_cannot_mend_fail_at_once(pack: Pack, clock: FakeClock, status: int) -> None:
    waits: list[float] = []

    async def scenario(connector: MockConnector) -> None:
        tenant = new_guid()
        connector.fail_next((status, {}))
        delivery = await teams_channel(pack, tenant, waits, clock).send(address(connector, tenant), [NUDGE])
        assert delivery == Delivery("failed", error=f"http {status}", attempts=1)

    with_connector(scenario)
    assert waits == []


def test_a_retry_after_beyond_the_policy_gives_up_for_the_outbox(pack: Pack, clock: FakeClock) -> None:
    waits: list[float] = []

    async def scenario(connector: MockConnector) -> None:
        tenant = new_guid()
        connector.fail_next((429, {"Retry-After": "600"}))
        delivery = await teams_channel(pack, tenant, waits, clock).send(address(connector, tenant), [NUDGE])
        assert delivery == Delivery("failed", error="http 429", attempts=1)

    with_connector(scenario)
    assert waits == []


def test_a_send_that_times_out_is_uncertain_not_resent_as_if_lost(pack: Pack, clock: FakeClock) -> None:
    async def scenario(connector: MockConnector) -> None:
        tenant = new_guid()
        connector.stall = 1.0
        channel = teams_channel(
            pack, tenant, [], clock, call_timeout=0.2, send_policy=RetryPolicy(attempts=2)
        )
        delivery = await channel.send(address(connector, tenant), [NUDGE])
        assert delivery.status == "uncertain" and delivery.error == "timed out"

    with_connector(scenario)


def test_a_pace_that_waits_longer_than_a_call_may_take_does_not_time_the_send_out(
    pack: Pack, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rate limiter may hold a send back for longer than one call may take (per conversation,
    # up to an hour): that wait is no call to Teams, and must not end the attempt as "may have
    # been sent", which would leave the reminder unconfirmed and never sent. The wait moves the
    # event loop's clock on instead of sleeping.
    async def scenario(connector: MockConnector) -> None:
        tenant = new_guid()
        loop = asyncio.get_running_loop()
        real_time, waited = loop.time, [0.0]
        monkeypatch.setattr(loop, "time", lambda: real_time() + waited[0])

        async def pace() -> None:
            waited[0] += 5.0
            for _ in range(10):  # long enough for any timer now due to fire
                await asyncio.sleep(0)

        channel = teams_channel(
            pack, tenant, [], clock, call_timeout=1.0, send_policy=RetryPolicy(attempts=1)
        )
        delivery = await channel.send(address(connector, tenant), [NUDGE], pace=pace)
        assert delivery == Delivery("sent", message_id="m1", attempts=1)
        assert connector.requests == 1

    with_connector(scenario)


def test_a_refused_connection_is_failed(pack: Pack, clock: FakeClock) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    waits: list[float] = []

    async def scenario(connector: MockConnector) -> None:
        tenant = new_guid()
        channel = teams_channel(pack, tenant, waits, clock, send_policy=RetryPolicy(attempts=2))
        delivery = await channel.send(address(connector, tenant, serviceUrl=closed), [NUDGE])
        assert delivery == Delivery("failed", error="connection failed", attempts=2)

    with_connector(scenario)
    assert len(waits) == 1


def test_a_dropped_connection_is_tried_once_per_attempt(pack: Pack, clock: FakeClock) -> None:
    """The SDK's HTTP stack never reconnects behind our back (msrest would, three more times)."""
    dropper = socket.create_server(("127.0.0.1", 0))
    accepted: list[int] = []

    def drop() -> None:
        while True:
            try:
                connection, _ = dropper.accept()
            except OSError:
                return
            accepted.append(1)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()  # a reset, as from a proxy that gave up

    threading.Thread(target=drop, daemon=True).start()
    url = f"http://127.0.0.1:{dropper.getsockname()[1]}/"

    async def scenario(connector: MockConnector) -> None:
        tenant = new_guid()
        channel = teams_channel(pack, tenant, [], clock, send_policy=RetryPolicy(attempts=3))
        delivery = await channel.send(address(connector, tenant, serviceUrl=url), [NUDGE])
        assert delivery.status in ("failed", "uncertain") and delivery.error == "connection failed"
        assert len(accepted) == delivery.attempts

    try:
        with_connector(scenario)
    finally:
        with contextlib.suppress(OSError):
            dropper.shutdown(socket.SHUT_RDWR)
        dropper.close()


def test_a_message_split_in_two_that_half_arrives_is_uncertain(pack: Pack, clock: FakeClock) -> None:
    async def scenario(connector: MockConnector) -> None:
        tenant = new_guid()
        huge = [Reply(key=f"strings.part_{n}", text="x" * 3000) for n in range(12)]
        channel = teams_channel(pack, tenant, [], clock)
        first = await channel.send(address(connector, tenant), huge)
        assert first.status == "sent" and len(connector.posted) == 2
        connector.posted.clear()
        connector.fail_next(None, (403, {}))
        second = await channel.send(address(connector, tenant), huge)
        assert second.status == "uncertain" and len(connector.posted) == 1

    with_connector(scenario)


@pytest.mark.parametrize(
    "data",
    [{}, {"serviceUrl": "http://127.0.0.1/"}, {"conversation": {"id": "x"}, "user": {}, "bot": {}}],
)
def test_an_address_without_a_reference_fails_without_a_request(
    pack: Pack, clock: FakeClock, data: dict[str, Any]
) -> None:
    async def scenario(connector: MockConnector) -> None:
        tenant = new_guid()
        channel = teams_channel(pack, tenant, [], clock)
        delivery = await channel.send(Address("msteams", tenant, VICTIM.aad, data), [NUDGE])
        assert delivery == Delivery("failed", error="no conversation reference", attempts=0)
        assert connector.requests == 0

    with_connector(scenario)


def test_local_mode_never_sends_beyond_loopback(pack: Pack, clock: FakeClock) -> None:
    async def scenario(connector: MockConnector) -> None:
        tenant = new_guid()
        channel = teams_channel(pack, tenant, [], clock)
        outside = address(connector, tenant, serviceUrl="https://smba.trafficmanager.net/uk/")
        assert await channel.send(outside, [NUDGE]) == Delivery(
            "failed", error="service URL not allowed", attempts=0
        )

    with_connector(scenario)


def test_no_channel_when_teams_is_off(pack: Pack) -> None:
    assert make_teams_channel(Settings(), pack=pack) is None


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("2", 2.0),
        ("0.5", 0.5),
        ("-4", 0.0),
        (format_datetime(START + timedelta(seconds=30)), 30.0),
        (format_datetime(START - timedelta(seconds=30)), 0.0),
        ("soon", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, now=START) == seconds


def test_a_set_up_that_times_out_is_recorded_as_never_sent(
    pack: Pack, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SDK's set-up (a token, a client) hangs before any request: nothing reached Teams, so the
    # attempt may be made again without risking a duplicate.
    async def scenario(connector: MockConnector) -> None:
        tenant = new_guid()
        channel = teams_channel(
            pack, tenant, [], clock, call_timeout=0.05, send_policy=RetryPolicy(attempts=1)
        )
        never = asyncio.Event()

        async def hangs(self: object, reference: object, logic: object) -> None:
            await never.wait()

        monkeypatch.setattr(type(channel._binding), "continue_conversation", hangs)
        delivery = await channel.send(address(connector, tenant), [NUDGE])
        assert delivery.status != "uncertain" and delivery.error == "timed out"
        assert connector.requests == 0

    with_connector(scenario)


def test_an_answer_the_sdk_cannot_read_leaves_the_send_to_be_looked_up(pack: Pack, clock: FakeClock) -> None:
    # Teams accepted the message but its answer was cut off: sending again could duplicate it, so
    # the outcome is uncertain (looked up before any resend), never "not sent".
    async def scenario(connector: MockConnector) -> None:
        tenant = new_guid()
        channel = teams_channel(pack, tenant, [], clock, send_policy=RetryPolicy(attempts=3))
        connector.garble_next = 1
        delivery = await channel.send(address(connector, tenant), [NUDGE])
        assert delivery.status == "uncertain", delivery
        assert len(connector.posted) == 1

    with_connector(scenario)
