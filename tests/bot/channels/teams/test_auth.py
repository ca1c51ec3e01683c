"""Teams with authentication on: real signed tokens against the SDK's JWT validation.

The test makes an RSA key, publishes its OpenID metadata and JWKS on a loopback port (from a
thread: botbuilder fetches keys with blocking `requests`) and signs channel tokens with it; the bot's
only difference from production is where it fetches the keys (`TeamsOptions.openid_metadata_url`),
which service URL origin it accepts (the mock connector's) and a fixed outbound token in place of
one from Entra ID. Every refusal happens before a member look-up, a reply or a database write.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from aiohttp import web
from sqlalchemy import Engine, func, select

from bot.app import RUNTIME
from bot.channels.slack.adapter import add_slack_routes
from bot.channels.teams import endpoint
from bot.channels.teams.endpoint import add_teams_routes
from bot.channels.teams.options import TeamsOptions
from bot.channels.teams.security import local_database_problem
from bot.conversation import RuntimePort
from bot.health import add_health
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from store.models import Person, ProcessedEvent
from tests.black_hole import BlackHole
from tests.conftest import FakeClock
from tests.fake_teams import (
    EMULATOR_ISSUER,
    Bot,
    MockConnector,
    TeamsUser,
    TokenIssuer,
    message,
    new_guid,
    running,
)
from tests.slack_mock import BOT_TOKEN, MockSlack, slack_signature
from tests.slack_mock import SECRET as SLACK_SECRET
from tests.slack_mock import TEAM as SLACK_TEAM

pytestmark = pytest.mark.usefixtures("sdk")

SUPERVISOR = TeamsUser("Sgt Test Supervisor", "sgt.test.supervisor@example.police.uk")
OUTBOUND = "outbound-test-token"


@pytest.fixture
def tenant() -> str:
    return new_guid()


@pytest.fixture
def issuer() -> Iterator[TokenIssuer]:
    issuer = TokenIssuer(app_id=new_guid())
    issuer.start()
    yield issuer
    issuer.stop()


@pytest.fixture
def runtime(engine: Engine, clock: FakeClock, issuer: TokenIssuer, tenant: str) -> Runtime:
    settings = Settings(
        microsoft_app_id=issuer.app_id,
        microsoft_app_password=f"test-only-{new_guid()}",
        microsoft_app_tenant_id=tenant,
    )
    return build_runtime(settings, clock=clock, engine=engine, migrate=False)


def authenticated_app(
    runtime: Runtime, issuer: TokenIssuer, connector: MockConnector, **options: Any
) -> web.Application:
    """Teams with authentication on, keys from `issuer` unless `options` say otherwise."""
    app = web.Application()
    app[RUNTIME] = runtime
    teams = TeamsOptions(
        **{
            "openid_metadata_url": issuer.metadata_url,
            "service_origins": frozenset({connector.origin}),
            "outbound_token": OUTBOUND,
            **options,
        }
    )
    add_teams_routes(app, RuntimePort(runtime), runtime.settings, clock=runtime.clock, options=teams)
    return app


def nothing_stored(runtime: Runtime) -> bool:
    with runtime.sessions.begin() as session:
        return not any(session.scalar(select(func.count()).select_from(m)) for m in (Person, ProcessedEvent))


def post(runtime: Runtime, issuer: TokenIssuer, tenant: str, build: Any) -> tuple[int, Bot]:
    """Post the activity `build(connector, who)` returns (with its headers); the status and the bot."""
    outcome: list[tuple[int, Bot]] = []

    async def main() -> None:
        async with running(lambda connector: authenticated_app(runtime, issuer, connector)) as bot:
            who = bot.who(SUPERVISOR, tenant)
            body, headers = build(bot.connector, who)
            response = await bot.post(body, headers)
            outcome.append((response.status, bot))
            assert bot.connector.invalid_cards == []

    asyncio.run(main())
    return outcome[0]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_token_for_our_tenant_is_served(runtime: Runtime, issuer: TokenIssuer, tenant: str) -> None:
    status, bot = post(
        runtime,
        issuer,
        tenant,
        lambda connector, who: (message("menu", **who), bearer(issuer.token(connector.url))),
    )
    assert status == 200
    [reply] = bot.connector.posted
    assert reply.keys == ["strings.menu"]
    assert reply.authorization == f"Bearer {OUTBOUND}"
    assert not nothing_stored(runtime)


def test_no_token_when_authentication_is_on_is_401(
    runtime: Runtime, issuer: TokenIssuer, tenant: str
) -> None:
    status, bot = post(runtime, issuer, tenant, lambda connector, who: (message("menu", **who), {}))
    assert status == 401
    assert bot.connector.posted == [] and bot.connector.member_lookups == 0
    assert nothing_stored(runtime)


def _other_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


BAD_TOKENS = {
    "not a JWT": lambda i, url: "garbage",
    "expired": lambda i, url: i.token(url, exp=1_700_000_000, nbf=1_699_990_000, iat=1_699_990_000),
    "another bot's audience": lambda i, url: i.token(url, aud=new_guid()),
    "another issuer": lambda i, url: i.token(url, iss="https://login.example.com/"),
    "no issuer": lambda i, url: i.token(url, iss=None),
    "signed by a key never published": lambda i, url: i.token(url, key=_other_key(), kid="unknown-key"),
    "signed by another key under our key id": lambda i, url: i.token(url, key=_other_key()),
    "signed by a key not endorsed for msteams": lambda i, url: i.token(
        url, key=i.webchat_key, kid=i.webchat_kid
    ),
    "issued by the Emulator": lambda i, url: i.token(url, iss=EMULATOR_ISSUER, ver="1.0", appid=i.app_id),
    "for another service URL": lambda i, url: i.token("https://smba.trafficmanager.net/uk/"),
    "unsigned (alg none)": lambda i, url: jwt.encode(
        {"iss": "https://api.botframework.com", "aud": i.app_id, "serviceurl": url, "exp": 4_000_000_000},
        None,
        algorithm="none",
    ),
}


@pytest.mark.parametrize("bad", BAD_TOKENS, ids=list(BAD_TOKENS))
def test_a_bad_token_is_401_before_anything_happens(
    runtime: Runtime, issuer: TokenIssuer, tenant: str, bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    status, bot = post(
        runtime,
        issuer,
        tenant,
        lambda connector, who: (message("menu", **who), bearer(BAD_TOKENS[bad](issuer, connector.url))),
    )
    assert status == 401
    assert bot.connector.posted == [] and bot.connector.member_lookups == 0
    assert nothing_stored(runtime)
    assert "Bearer" not in caplog.text


def test_a_token_for_another_tenant_is_403(runtime: Runtime, issuer: TokenIssuer, tenant: str) -> None:
    other = new_guid()

    def build(connector: MockConnector, who: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        return message("menu", **{**who, "tenant": other}), bearer(issuer.token(connector.url))

    status, bot = post(runtime, issuer, tenant, build)
    assert status == 403
    assert bot.connector.posted == [] and bot.connector.member_lookups == 0
    assert nothing_stored(runtime)


def test_a_token_claiming_another_tenant_is_403(runtime: Runtime, issuer: TokenIssuer, tenant: str) -> None:
    status, _ = post(
        runtime,
        issuer,
        tenant,
        lambda connector, who: (message("menu", **who), bearer(issuer.token(connector.url, tid=new_guid()))),
    )
    assert status == 403
    assert nothing_stored(runtime)


def test_the_emulator_channel_is_refused_even_with_a_valid_token(
    runtime: Runtime, issuer: TokenIssuer, tenant: str
) -> None:
    status, bot = post(
        runtime,
        issuer,
        tenant,
        lambda connector, who: (
            {**message("menu", **who), "channelId": "emulator"},
            bearer(issuer.token(connector.url)),
        ),
    )
    assert status == 403
    assert bot.connector.posted == []
    assert nothing_stored(runtime)


def test_a_service_url_outside_the_allow_list_is_refused_even_with_a_valid_token(
    runtime: Runtime, issuer: TokenIssuer, tenant: str
) -> None:
    foreign = "https://attacker.example.com/"

    status, bot = post(
        runtime,
        issuer,
        tenant,
        lambda connector, who: (
            message("menu", **{**who, "service_url": foreign}),
            bearer(issuer.token(foreign)),
        ),
    )
    assert status == 403
    assert bot.connector.posted == []
    assert nothing_stored(runtime)


def test_a_token_once_accepted_is_not_validated_again_for_the_same_channel_and_service_url(
    runtime: Runtime, issuer: TokenIssuer, tenant: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bot Framework sends one token with many activities: the SDK's acceptance is reused (for
    five minutes at most), never a refusal, and never for another service URL."""
    validated: list[bool] = []
    verdicts: list[Any] = []
    make_binding = endpoint.make_binding

    def counting(*args: Any, **kwargs: Any) -> Any:
        binding = make_binding(*args, **kwargs)
        authenticate = binding.authenticate

        async def counted(activity: Any, header: str) -> Any:
            verdict = await authenticate(activity, header)
            validated.append(verdict is not None)
            verdicts.append(verdict)
            return verdict

        binding.authenticate = counted
        return binding

    monkeypatch.setattr(endpoint, "make_binding", counting)
    statuses: list[int] = []
    posted: list[int] = []

    async def main() -> None:
        async with running(lambda connector: authenticated_app(runtime, issuer, connector)) as bot:
            who = bot.who(SUPERVISOR, tenant)
            token = bearer(issuer.token(bot.connector.url))

            async def say(headers: dict[str, str], **changed: Any) -> None:
                statuses.append((await bot.post(message("menu", **{**who, **changed}), headers)).status)

            await say(token)
            await say(token)
            assert len(validated) == 1
            # Remembered, yet the tenant is still checked at each request.
            await say(token, tenant=new_guid())
            assert len(validated) == 1
            # Judged afresh: another service URL (refused: the token names the connector's), and
            # a refused token, each time it comes.
            await say(token, service_url="https://smba.trafficmanager.net/uk/")
            refused = bearer(issuer.token(bot.connector.url, aud=new_guid()))
            await say(refused)
            await say(refused)
            assert len(validated) == 4
            clock.advance(minutes=5)
            await say(token)
            assert len(validated) == 5
            posted.append(len(bot.connector.posted))

    asyncio.run(main())
    assert statuses == [200, 200, 403, 401, 401, 401, 200]
    assert validated[0] and validated[3:] == [False, True]
    assert posted == [3]
    # What is remembered holds no token: the SDK's result is kept, the bearer token is not.
    reachable = _strings_reachable(verdicts[0].result)
    assert issuer.app_id in reachable  # the claims are there (the audience)
    assert not any(text.startswith("eyJ") for text in reachable)  # a JWT's base64 header is not


def _strings_reachable(value: Any, depth: int = 4) -> list[str]:
    """Every string reachable from `value` through attributes, mappings and sequences (`depth` deep)."""
    if isinstance(value, str):
        return [value]
    if depth == 0 or value is None or isinstance(value, int | float | bool | bytes):
        return []
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        items = list(getattr(value, "__dict__", {}).values())
    return [text for item in items for text in _strings_reachable(item, depth - 1)]


def test_a_silent_signing_key_endpoint_never_stalls_the_server(
    runtime: Runtime, issuer: TokenIssuer, tenant: str
) -> None:
    """While the keys are awaited from an endpoint that never answers, /healthz and the Slack
    endpoint still answer; the request waiting for them is refused once the endpoint goes away."""
    hole = BlackHole()
    slack_api = MockSlack()
    # Only a failsafe: a server that stalled would otherwise never let the test see it.
    failsafe = threading.Timer(120, hole.close)
    failsafe.start()
    entered = asyncio.Event()

    @web.middleware
    async def seen(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/api/messages":
            entered.set()
        response: web.StreamResponse = await handler(request)
        return response

    def make_app(connector: MockConnector) -> web.Application:
        app = web.Application(middlewares=[seen])
        app[RUNTIME] = runtime
        add_health(app, runtime.engine)
        options = TeamsOptions(
            openid_metadata_url=hole.url,
            service_origins=frozenset({connector.origin}),
            outbound_token=OUTBOUND,
        )
        add_teams_routes(app, RuntimePort(runtime), runtime.settings, clock=runtime.clock, options=options)
        slack = runtime.settings.replace(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SLACK_SECRET,
            slack_team_id=SLACK_TEAM,
            slack_api_url=slack_api.url,
        )
        add_slack_routes(app, RuntimePort(runtime), slack, clock=runtime.clock)
        return app

    async def main() -> None:
        await slack_api.start()
        async with running(make_app) as bot:
            who = bot.who(SUPERVISOR, tenant)
            token = bearer(issuer.token(bot.connector.url))
            posting = asyncio.create_task(bot.post(message("menu", **who), token))
            await entered.wait()
            assert await asyncio.to_thread(hole.connected.wait, 60)
            async with bot.http.get(bot.url + "/healthz") as response:
                assert response.status == 200
            body = json.dumps({"type": "url_verification", "challenge": "still-here"}).encode()
            headers = {
                "Content-Type": "application/json",
                **slack_signature(SLACK_SECRET, body, int(runtime.clock().timestamp())),
            }
            async with bot.http.post(bot.url + "/slack/events", data=body, headers=headers) as response:
                assert (response.status, await response.json()) == (200, {"challenge": "still-here"})
            assert not posting.done()  # still waiting for the keys, and nothing else waited for it
            hole.close()
            assert (await posting).status == 401
            assert bot.connector.posted == [] and bot.connector.member_lookups == 0
        await slack_api.stop()

    try:
        asyncio.run(main())
    finally:
        failsafe.cancel()
        hole.close()
    assert nothing_stored(runtime)


@pytest.mark.parametrize(("backend", "refused"), [("sqlite", False), ("postgresql", True), ("mysql", True)])
def test_local_mode_serves_only_a_local_sqlite_database(backend: str, refused: bool) -> None:
    assert (local_database_problem(backend) is not None) is refused


def test_a_key_endpoint_that_hung_once_is_asked_again_not_waited_on_for_ever(
    runtime: Runtime, issuer: TokenIssuer, tenant: str
) -> None:
    """The first fetch of the keys meets an endpoint that accepts and never answers: that request
    is refused once the fetch times out, and a later one fetches the keys afresh and is served.
    Without a timeout on the fetch itself, the first fetch would hold every later request for ever."""
    host, port = urllib.parse.urlsplit(issuer.metadata_url).netloc.split(":")
    hole = BlackHole(then=(host, int(port)))
    # Only a failsafe: a fetch without a timeout would otherwise keep the test waiting for ever.
    failsafe = threading.Timer(60, hole.close)
    failsafe.start()

    def make_app(connector: MockConnector) -> web.Application:
        return authenticated_app(runtime, issuer, connector, openid_metadata_url=hole.url, key_timeout=2.0)

    async def main() -> list[int]:
        async with running(make_app) as bot:
            who = bot.who(SUPERVISOR, tenant)
            statuses = [
                (await bot.post(message("menu", **who), bearer(issuer.token(bot.connector.url)))).status
            ]
            # A deadline on the loop only: each attempt ends by itself once its fetch times out.
            while statuses[-1] != 200 and len(statuses) < 5:
                token = bearer(issuer.token(bot.connector.url))
                statuses.append((await bot.post(message("menu", **who), token)).status)
            return statuses

    try:
        statuses = asyncio.run(main())
    finally:
        failsafe.cancel()
        hole.close()
    assert statuses[0] == 401 and statuses[-1] == 200


def test_after_a_failed_fetch_the_keys_are_retried_with_backoff_not_twelve_hours_later() -> None:
    from bot.channels.teams.botbuilder import KEYS_REFRESH, keys_refresh_delay

    delays = [keys_refresh_delay(failures) for failures in range(20)]
    assert delays[0] == KEYS_REFRESH  # all well: the regular refresh
    assert delays[1] < delays[2] < delays[3] < KEYS_REFRESH  # retried soon, then backing off
    assert delays[1] <= 60 and delays[-1] == KEYS_REFRESH
