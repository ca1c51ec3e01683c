"""The botbuilder binding's own shortcuts, each checked against what the SDK does itself."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
from collections import OrderedDict
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import botbuilder.schema
import botbuilder.schema.teams
import jwt
import msrest.serialization
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.core import InvokeResponse, TurnContext, turn_context
from botframework.connector import models as connector_models
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import EmulatorValidation, SkillValidation
from msrest import Serializer
from msrest.authentication import BasicTokenAuthentication

from bot.app import create_app
from bot.channels.teams.botbuilder import (
    BotbuilderBinding,
    _attempt,
    _ConnectorHttp,
    _NotPlain,
    _read_token,
    _ReusedConnectors,
    _serialize_plainly,
    _Turn,
    _wire,
)
from bot.channels.teams.cards import CARD_CONTENT_TYPE, render_cards
from bot.channels.teams.options import TeamsOptions
from bot.channels.teams.sdk import CardTurn
from bot.channels.teams.security import Mode
from bot.runtime import build_runtime
from bot.settings import Settings
from dialogs.schema import Pack
from dialogs.types import Choice, Fact, Reply
from store.db import make_engine
from tests.conftest import FakeClock
from tests.fake_teams import EMULATOR_ISSUER, MockConnector, TeamsUser, bot_added, message, running
from tests.smtp_server import self_signed

KEY = "k" * 32


def _token(claims: dict[str, Any], **headers: Any) -> str:
    return jwt.encode(claims, KEY, algorithm="HS256", headers=headers or {"kid": "key-1"})


def _segment(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


CHANNEL = {"iss": "https://api.botframework.com", "aud": "app", "serviceurl": "https://smba.example"}
HEADERS = {
    "channel": "Bearer " + _token(CHANNEL),
    "emulator": "Bearer " + _token({**CHANNEL, "iss": EMULATOR_ISSUER}),
    "emulator v2": "Bearer " + _token({"iss": EMULATOR_ISSUER, "ver": "2.0", "azp": "app"}),
    "skill": "Bearer " + _token({"iss": "https://other", "ver": "1.0", "aud": "app", "appid": "other-app"}),
    "anonymous skill": "Bearer " + _token({"appid": "AnonymousSkill"}),
    "no issuer": "Bearer " + _token({"aud": "app"}),
    "empty issuer": "Bearer " + _token({"iss": "", "aud": "app"}),
    "empty claims": "Bearer " + _token({}),
    "no key id": "Bearer " + _token(CHANNEL, alg="HS256"),
    "key id not a string": "Bearer " + f"{_segment({'alg': 'HS256', 'kid': 7})}.{_segment(CHANNEL)}.c2ln",
    "payload not JSON": "Bearer " + f"{_segment({'alg': 'HS256', 'kid': 'k'})}.bm90IGpzb24.c2ln",
    "garbage": "Bearer not-a-token",
    "two words": "Bearer " + _token(CHANNEL) + " more",
    "basic scheme": "Basic " + _token(CHANNEL),
    "lower-case scheme": "bearer " + _token({**CHANNEL, "iss": EMULATOR_ISSUER}),
}


def _sdk_foreign(header: str) -> bool:
    """What the binding asked the SDK before: its emulator test, then its skill test."""
    try:
        return bool(
            EmulatorValidation.is_token_from_emulator(header) or SkillValidation.is_skill_token(header)
        )
    except Exception:
        return True


def _sdk_header(header: str) -> dict[str, Any] | None:
    try:
        return jwt.get_unverified_header(header.partition(" ")[2])
    except jwt.PyJWTError:
        return None


@pytest.mark.parametrize("header", HEADERS.values(), ids=list(HEADERS))
def test_one_read_of_the_token_judges_it_as_the_sdk_does(header: str) -> None:
    foreign, jose = _read_token(header)
    assert foreign == _sdk_foreign(header)
    if not foreign:
        assert jose == _sdk_header(header)


def test_channel_tokens_pass_and_emulator_and_skill_tokens_do_not() -> None:
    assert _read_token(HEADERS["channel"]) == (False, {"alg": "HS256", "kid": "key-1", "typ": "JWT"})
    for kind in ("emulator", "emulator v2", "skill", "anonymous skill", "no issuer", "garbage"):
        assert _read_token(HEADERS[kind])[0] is True, kind


def _stock() -> Serializer:
    models = {k: v for k, v in connector_models.__dict__.items() if isinstance(v, type)}
    return Serializer(models)


def _plainly() -> Serializer:
    serializer = _stock()
    _serialize_plainly(serializer)
    return serializer


def _activities(pack: Pack) -> list[Any]:
    reply = Reply(
        key="strings.menu",
        text="What would you like to do?\n\nPick one.",
        facts=(Fact(label="Case", value="HAM-1"),),
        choices=tuple(Choice(value=f"flow_{n}", label=f"Option {n}") for n in range(4)),
        step="menu",
    )
    schema = botbuilder.schema
    card = render_cards([reply], pack)[0]
    odd = {"when": 1.5, "yes": True, "none": None, 7: "not a str key", "list": [1, "a", {"b": [None]}]}
    return [
        schema.Activity(
            type=schema.ActivityTypes.message,
            attachments=[schema.Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
            from_property=schema.ChannelAccount(id="28:app", name="Op Hampshire"),
            conversation=schema.ConversationAccount(id="a:1", tenant_id="t"),
            reply_to_id="f:1",
        ),
        schema.Activity(
            type=schema.ActivityTypes.invoke_response,
            value=InvokeResponse(status=200, body={"statusCode": 200, "value": card}),
        ),
        schema.Activity(
            type=schema.ActivityTypes.message,
            value=odd,
            channel_data=botbuilder.schema.teams.TeamsChannelData(
                tenant=botbuilder.schema.teams.TenantInfo(id="t")
            ),
            attachments=[schema.Attachment(content_type="text/plain", content=["a", 1, {"b": odd}])],
        ),
    ]


def _reply_to_teams(pack: Pack, **fields: Any) -> botbuilder.schema.Activity:
    """A card in reply to an activity from Teams, addressed as the SDK addresses it."""
    person = TeamsUser("PC Ada Example", "ada.example@example.police.uk", id="29:ada", aad="aad-ada")
    body = message(
        "menu", person=person, tenant="t-1", service_url="https://smba.example/", id="f:menu", **fields
    )
    incoming = botbuilder.schema.Activity().deserialize(body)
    incoming.conversation.tenant_id = "t-1"  # as the binding sets it
    reply = _activities(pack)[0]
    reply.input_hint = "acceptingInput"
    return TurnContext.apply_conversation_reference(reply, TurnContext.get_conversation_reference(incoming))


def _odd_replies(pack: Pack) -> list[botbuilder.schema.Activity]:
    """Activities holding what `_wire` leaves to msrest: a date, a number, a value not plain JSON."""
    dated = _reply_to_teams(pack)
    dated.timestamp = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    numbered = _reply_to_teams(pack)
    numbered.from_property.id = 28
    typed = _reply_to_teams(pack)
    typed.conversation.is_group = "no"
    grouped = _reply_to_teams(pack, conversation_type="groupChat")
    grouped.conversation.is_group = False
    grouped.conversation.properties = {"topic": ["a", 1, None]}
    return [dated, numbered, typed, grouped]


def test_activities_serialize_exactly_as_msrest_serializes_them(pack: Pack) -> None:
    def all_of() -> list[Any]:
        return [*_activities(pack), _reply_to_teams(pack), *_odd_replies(pack)]

    for stock, plain in zip(all_of(), all_of(), strict=True):
        assert _plainly().body(plain, "Activity") == _stock().body(stock, "Activity")


def test_a_reply_is_written_directly_and_anything_unusual_by_msrest(pack: Pack) -> None:
    reply = _reply_to_teams(pack)
    wire = _wire(reply)
    assert wire["type"] == "message" and wire["replyToId"] == reply.reply_to_id
    assert wire["conversation"]["tenantID"] == "t-1"
    assert wire["attachments"][0]["content"] == reply.attachments[0].content
    for odd in _odd_replies(pack)[:3]:
        with pytest.raises(_NotPlain):
            _wire(odd)


def test_a_plain_reply_never_goes_through_msrests_machinery(
    pack: Pack, monkeypatch: pytest.MonkeyPatch
) -> None:
    serializer, reply, odd = _plainly(), _reply_to_teams(pack), _odd_replies(pack)[0]
    expected = _wire(_reply_to_teams(pack))
    monkeypatch.setattr(msrest.serialization, "Deserializer", None)  # msrest's body builds one first
    assert serializer.body(reply, "Activity") == expected
    with pytest.raises(TypeError):
        serializer.body(odd, "Activity")


def test_the_card_is_copied_not_shared(pack: Pack) -> None:
    activity = _activities(pack)[0]
    sent = _plainly().body(activity, "Activity")
    sent["attachments"][0]["content"]["body"].clear()
    assert activity.attachments[0].content["body"]


def test_no_bot_framework_model_declares_a_validation_rule() -> None:
    """Why client-side validation can be off: with no rule declared, it never finds anything."""
    modules = [botbuilder.schema, botbuilder.schema.teams, connector_models]
    models = [
        v for m in modules for v in vars(m).values() if isinstance(v, type) and hasattr(v, "_attribute_map")
    ]
    assert len(models) > 50
    assert [m.__name__ for m in models if getattr(m, "_validation", {})] == []


def test_reused_connector_clients_serialize_plainly() -> None:
    class Inner:
        async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
            return ConnectorClient(BasicTokenAuthentication({"access_token": "t"}), base_url=service_url)

    factory = _ReusedConnectors(Inner(), "app", OrderedDict(), _ConnectorHttp())
    client = asyncio.run(factory.create("https://smba.example/"))
    assert client.conversations._serialize is client._serialize
    assert client._serialize.client_side_validation is False
    assert client._serialize.serialize_type["object"]({"a": [1]}) == {"a": [1]}
    assert asyncio.run(factory.create("https://smba.example/")) is client


def test_a_missing_value_still_fails_before_anything_is_sent() -> None:
    class Inner:
        async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
            return ConnectorClient(BasicTokenAuthentication({"access_token": "t"}), base_url=service_url)

    factory = _ReusedConnectors(Inner(), "app", OrderedDict(), _ConnectorHttp())
    client = asyncio.run(factory.create("http://127.0.0.1:9/"))
    activity = botbuilder.schema.Activity(type="message", text="x")
    with pytest.raises(ValueError):
        asyncio.run(client.conversations.reply_to_activity("a:1", None, activity))


class _NoThreads(concurrent.futures.ThreadPoolExecutor):
    """A loop's default executor that refuses work: a call that needs a worker thread fails."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        raise AssertionError("a connector call was handed to a worker thread")


async def _client(service_url: str, http: _ConnectorHttp, credentials: Any = None) -> ConnectorClient:
    class Inner:
        async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
            return ConnectorClient(
                credentials or BasicTokenAuthentication({"access_token": "t"}), base_url=service_url
            )

    client: ConnectorClient = await _ReusedConnectors(Inner(), "app", OrderedDict(), http).create(service_url)
    return client


def _reply(text: str) -> botbuilder.schema.Activity:
    return botbuilder.schema.Activity(type="message", text=text, service_url="x", channel_id="msteams")


@pytest.mark.parametrize("keep", [True, False], ids=["server running", "no server"])
def test_connector_calls_are_signed_and_sent_on_the_event_loop_never_in_a_worker_thread(
    keep: bool, clock: FakeClock
) -> None:
    """msrest's own driver would run requests in the loop's executor, a thread per call in flight."""
    http = _ConnectorHttp()

    async def scenario() -> None:
        asyncio.get_running_loop().set_default_executor(_NoThreads())
        connector = MockConnector()
        await connector.start()
        http.keep = keep
        try:
            client = await _client(connector.url, http)
            for text in ("one", "two"):
                reply = partial(client.conversations.reply_to_activity, "a:1", "act-1", _reply(text))
                attempt = await _attempt(reply, timeout=5, clock=clock)
                assert (attempt.status, attempt.message_id) == (201, f"m{len(connector.posted)}")
            assert [p.body["text"] for p in connector.posted] == ["one", "two"]
            assert {p.authorization for p in connector.posted} == {"Bearer t"}
        finally:
            await http.discard()
            await connector.close()

    asyncio.run(scenario())


def test_a_failure_to_get_credentials_is_a_call_that_never_reached_teams(clock: FakeClock) -> None:
    """No token (Entra ID down): nothing was sent, so the retry loop may try again without a duplicate."""

    class Failing(BasicTokenAuthentication):
        def signed_session(self, session: Any = None) -> Any:
            raise ConnectionError("login.microsoftonline.com unreachable")

    async def scenario() -> None:
        connector = MockConnector()
        await connector.start()
        try:
            client = await _client(connector.url, _ConnectorHttp(), Failing({"access_token": "t"}))
            reply = partial(client.conversations.reply_to_activity, "a:1", "act-1", _reply("x"))
            attempt = await _attempt(reply, timeout=5, clock=clock)
            assert (attempt.status, attempt.sent, attempt.error) == (0, False, "connection failed")
            assert connector.requests == 0
        finally:
            await connector.close()

    asyncio.run(scenario())


_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def test_connector_calls_take_the_proxy_the_environment_names_as_requests_did(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "proxy.example.police.uk:8080")  # no scheme: requests adds http
    monkeypatch.setenv("ALL_PROXY", "http://egress.example.police.uk:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.0/8,.internal.example.police.uk,smba.example.police.uk:8443")
    http = _ConnectorHttp()
    assert http.proxy("https://smba.trafficmanager.net/emea/") == "http://proxy.example.police.uk:8080"
    assert http.proxy("http://smba.example.police.uk/") == "http://egress.example.police.uk:3128"
    assert http.proxy("http://127.0.0.1:9/v3/conversations") is None
    assert http.proxy("https://bot.internal.example.police.uk/") is None
    # Cached by origin, not host: NO_PROXY names one port of this host.
    assert http.proxy("https://smba.example.police.uk/") == "http://proxy.example.police.uk:8080"
    assert http.proxy("https://smba.example.police.uk:8443/") is None


def test_connector_certificates_are_checked_against_requests_bundle_not_the_systems(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A force behind a TLS-inspecting proxy names its CA in REQUESTS_CA_BUNDLE, as requests read it."""
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    assert len(_ConnectorHttp()._tls.get_ca_certs()) > 100  # certifi's bundle
    bundle, _ = self_signed(tmp_path)  # a force's own CA, say
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    (only,) = _ConnectorHttp()._tls.get_ca_certs()
    assert "mail.example.police.uk" in str(only["subject"])


def test_an_https_connector_is_trusted_by_requests_bundle_and_refused_without_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: FakeClock
) -> None:
    """A reply over HTTPS checks the connector's certificate against REQUESTS_CA_BUNDLE (the
    force's own CA); without it, certifi's bundle refuses the same certificate: nothing is sent."""
    import ssl

    cert, key = self_signed(tmp_path)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    replies: list[str] = []

    async def reply(request: web.Request) -> web.Response:
        replies.append(request.match_info["aid"])
        return web.json_response({"id": "over-tls"})

    async def send() -> Any:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", reply)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server(ssl=served)
        assert server.make_url("/").scheme == "https"
        try:
            client = await _client(str(server.make_url("/")), _ConnectorHttp())
            call = partial(client.conversations.reply_to_activity, "a:1", "act-1", _reply("x"))
            return await _attempt(call, timeout=5, clock=clock)
        finally:
            await server.close()

    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    trusted = asyncio.run(send())
    assert trusted.message_id == "over-tls"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    refused = asyncio.run(send())
    assert (refused.status, refused.message_id) == (0, None)
    assert replies == ["act-1"]


def test_a_redirect_is_the_answer_never_followed(clock: FakeClock) -> None:
    """aiohttp would follow a 302 with a GET and take its answer for the message's id."""
    methods: list[str] = []

    async def redirect(request: web.Request) -> web.Response:
        methods.append(request.method)
        return web.json_response({}, status=302, headers={"Location": "/elsewhere"})

    async def elsewhere(request: web.Request) -> web.Response:
        methods.append(request.method)
        return web.json_response({"id": "from-GET"})

    async def scenario() -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", redirect)
        app.router.add_route("*", "/elsewhere", elsewhere)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            client = await _client(str(server.make_url("/")), _ConnectorHttp())
            reply = partial(client.conversations.reply_to_activity, "a:1", "act-1", _reply("x"))
            attempt = await _attempt(reply, timeout=5, clock=clock)
            assert (attempt.status, attempt.message_id) == (302, None)
        finally:
            await server.close()

    asyncio.run(scenario())
    assert methods == ["POST"]


@pytest.mark.parametrize("mode", ["local", "authenticated"])
def test_the_connector_session_is_kept_while_the_server_runs_and_closed_however_it_stops(
    mode: Mode, clock: FakeClock
) -> None:
    """Stopped by the app's clean-up, or by a loop shut down without it (every live generator
    closed at once): the session is closed and nothing raises."""
    settings = Settings(
        microsoft_app_id="app", microsoft_app_password="secret", microsoft_app_tenant_id="tenant"
    )
    options = TeamsOptions(openid_metadata_url="http://127.0.0.1:9/metadata", key_timeout=0.01)

    errors: list[dict[str, Any]] = []
    kept: list[tuple[_ConnectorHttp, Any]] = []

    async def scenario(stop: str) -> None:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: errors.append(context))
        connector = MockConnector()
        await connector.start()
        binding = BotbuilderBinding(settings, mode, options, clock)
        lifecycle = binding.lifecycle(web.Application())
        try:
            await lifecycle.__anext__()
            http = binding.auth.http
            client = await _client(connector.url, http)
            await client.conversations.reply_to_activity("a:1", "act-1", _reply("kept"))
            assert http.keep and http._kept is not None and not http._kept.closed
            kept.append((http, http._kept))
            if stop == "clean-up":
                with pytest.raises(StopAsyncIteration):
                    await lifecycle.__anext__()
            # else left suspended: asyncio.run closes it as it shuts the loop down
        finally:
            await connector.close()

    for stop in ("clean-up", "loop shut down"):
        asyncio.run(scenario(stop))
        http, session = kept.pop()
        assert session.closed and not http.keep and http._kept is None
    assert errors == []


def _replies_posted(clock: FakeClock, turns: list[str]) -> list[dict[str, Any]]:
    """What the bot (local mode, on botbuilder, a database of its own) posted to the connector for
    a greeting and `turns`."""
    tenant = "t-replies"
    settings = Settings(allow_unauthenticated=True, microsoft_app_tenant_id=tenant, teams_sdk="botbuilder")
    runtime = build_runtime(settings, clock=clock, engine=make_engine("sqlite://"))
    person = TeamsUser("PC Ada Example", "ada.example@example.police.uk", id="29:ada", aad="aad-ada")

    async def main() -> list[dict[str, Any]]:
        async with running(lambda connector: create_app(runtime)) as bot:
            who = bot.who(person, tenant)
            assert (await bot.post(bot_added(id="f:hello", **who))).status == 200
            for number, text in enumerate(turns):
                assert (await bot.post(message(text, id=f"f:{number}", **who))).status == 200
            bodies = [posted.body for posted in bot.connector.posted]
            # Each run has a connector of its own, on a port of its own.
            assert {body.pop("serviceUrl") for body in bodies} == {bot.connector.url}
            return bodies

    return asyncio.run(main())


def test_a_reply_is_posted_as_the_sdks_turn_context_posts_it_without_copying_the_card(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    turns = ["menu", "help"]
    with monkeypatch.context() as sdk_way:
        sdk_way.setattr(_Turn, "send", CardTurn.send)
        expected = _replies_posted(clock, turns)
    copied: list[object] = []
    monkeypatch.setattr(turn_context, "deepcopy", lambda value: copied.append(value) or value)
    posted = _replies_posted(clock, turns)
    assert posted == expected
    assert [body.get("replyToId") for body in posted] == [None, "f:0", "f:1"]
    assert len(copied) == 1  # the greeting: a conversation update is not a message to reply to
