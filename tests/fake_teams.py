"""Fakes for the Teams tests: a recording Bot Connector, Teams activities, a token issuer.

- `MockConnector`: an aiohttp server standing in for Teams' Bot Connector (the `serviceUrl`). It
  records every activity posted (and every update of one, `PUT …/activities/{id}`), validates
  every Adaptive Card against the 1.5 schema, answers `GET …/members/{id}` for TeamsInfo, and can
  be scripted to fail (429 with Retry-After, 5xx, a stall) before it accepts.
- `TeamsUser` and `activity()`: invented people and the Activity JSON Teams would post.
- `TokenIssuer`: an RSA key made in the test, its OpenID metadata and JWKS served on a loopback
  port from a thread (botbuilder fetches keys with blocking `requests`), and tokens signed with it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache, lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jsonschema.validators import validator_for

from bot.channels.teams import sdk as teams_sdk
from bot.channels.teams.sdk import SDKS, Sdk

#: The vendored official schemas, beside the repository (`../shared/schemas`).
SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "schemas"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"


@cache
def card_validator() -> Any:
    """A validator for Adaptive Cards 1.5 (the schema Teams renders)."""
    schema = json.loads((SCHEMAS / "adaptive-card-1.5.schema.json").read_text(encoding="utf-8"))
    cls = validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def card_errors(card: object) -> list[str]:
    """Why `card` is not a valid Adaptive Card 1.5 (empty when it is)."""
    return list(_card_errors(json.dumps(card, sort_keys=True)))


@lru_cache(maxsize=4096)
def _card_errors(card: str) -> tuple[str, ...]:
    # By content: validating a card takes milliseconds, and a load run posts the same few cards
    # thousands of times (on the load's CPU, where it delayed every Teams reply it measured).
    errors = card_validator().iter_errors(json.loads(card))
    return tuple(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def new_guid() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class TeamsUser:
    """An invented Teams user."""

    name: str
    email: str
    id: str = field(default_factory=lambda: f"29:{uuid.uuid4().hex}")
    aad: str = field(default_factory=new_guid)

    def member(self, tenant: str) -> dict[str, Any]:
        """The member record the connector returns for TeamsInfo.get_member."""
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "userPrincipalName": self.email,
            "aadObjectId": self.aad,
            "tenantId": tenant,
        }


BOT = {"id": "28:" + uuid.uuid4().hex, "name": "Op Hampshire"}


def activity(
    kind: str,
    *,
    person: TeamsUser,
    tenant: str,
    service_url: str,
    conversation_type: str = "personal",
    conversation_id: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """The Activity JSON Teams posts to /api/messages."""
    return {
        "type": kind,
        "id": fields.pop("id", None) or f"f:{uuid.uuid4().hex}",
        "timestamp": "2026-11-23T09:00:00.000Z",
        "channelId": fields.pop("channelId", "msteams"),
        "serviceUrl": service_url,
        "from": {"id": person.id, "name": person.name, "aadObjectId": person.aad},
        "recipient": dict(BOT),
        "conversation": {
            "id": conversation_id or f"a:{person.aad}",
            "conversationType": conversation_type,
            "tenantId": tenant,
        },
        "channelData": {"tenant": {"id": tenant}},
        "locale": "en-GB",
        **fields,
    }


def message(text: str, **kwargs: Any) -> dict[str, Any]:
    return activity("message", text=text, textFormat="plain", **kwargs)


def submit(value: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """What Teams posts when an Action.Submit button is pressed: no text, the data as value."""
    return activity("message", value=value, **kwargs)


def bot_added(**kwargs: Any) -> dict[str, Any]:
    return activity("conversationUpdate", membersAdded=[dict(BOT)], **kwargs)


def installed(**kwargs: Any) -> dict[str, Any]:
    return activity("installationUpdate", action="add", **kwargs)


@dataclass
class Posted:
    """One activity the bot posted to the connector."""

    conversation_id: str
    body: dict[str, Any]
    authorization: str | None

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [a["content"] for a in self.body.get("attachments") or [] if a.get("contentType") == CARD_TYPE]

    @property
    def keys(self) -> list[str]:
        """The string ids of the replies in this message (each reply is a Container with that id)."""
        return [item["id"] for card in self.cards for item in card["body"] if "id" in item]

    def choices(self) -> list[dict[str, Any]]:
        """The data of every submit button, in order."""
        found = []
        for card in self.cards:
            for container in card["body"]:
                for item in container["items"]:
                    if item["type"] == "ActionSet":
                        found += [action["data"] for action in item["actions"]]
        return found


class MockConnector:
    """A local Bot Connector: records what the bot sends, answers member look-ups."""

    def __init__(self) -> None:
        self.posted: list[Posted] = []
        #: Activities updated in place (`PUT`), as (activity id, what it now is).
        self.updated: list[tuple[str, Posted]] = []
        self.members: dict[str, dict[str, Any]] = {}
        self.member_lookups = 0
        self.requests = 0
        self.script: list[tuple[int, dict[str, str]] | None] = []
        self.stall: float = 0.0
        #: Accept the next posts but answer each with a body no SDK can read.
        self.garble_next = 0
        self.invalid_cards: list[str] = []
        self.url = ""
        self.origin = ""
        self._server: TestServer | None = None

    def add(self, person: TeamsUser, tenant: str) -> TeamsUser:
        self.members[person.id] = person.member(tenant)
        return person

    def fail_next(self, *responses: tuple[int, dict[str, str]] | None) -> None:
        """Answer the next posts with these statuses and headers (None: accept that one)."""
        self.script.extend(responses)

    async def _post(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.json()
        if self.stall:
            await asyncio.sleep(self.stall)
        scripted = self.script.pop(0) if self.script else None
        if scripted is not None:
            status, headers = scripted
            return web.json_response({"error": {"code": "Throttled"}}, status=status, headers=headers)
        posted = Posted(request.match_info["cid"], body, request.headers.get("Authorization"))
        for card in posted.cards:
            self.invalid_cards += card_errors(card)
        self.posted.append(posted)
        if self.garble_next:
            self.garble_next -= 1
            return web.Response(text='{"id": "m', status=201, content_type="application/json")
        return web.json_response({"id": f"m{len(self.posted)}"}, status=201)

    async def _put(self, request: web.Request) -> web.Response:
        self.requests += 1
        posted = Posted(request.match_info["cid"], await request.json(), request.headers.get("Authorization"))
        for card in posted.cards:
            self.invalid_cards += card_errors(card)
        self.updated.append((request.match_info["aid"], posted))
        return web.json_response({"id": request.match_info["aid"]}, status=200)

    async def _member(self, request: web.Request) -> web.Response:
        self.member_lookups += 1
        member = self.members.get(request.match_info["mid"])
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFound"}}, status=404)
        return web.json_response(member)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self._post)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._post)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._put)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        self.url = str(self._server.make_url("/")).rstrip("/") + "/"
        self.origin = self.url.rstrip("/")

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()


@dataclass
class Bot:
    """A running bot app and its connector, as a test drives them."""

    url: str
    connector: MockConnector
    http: aiohttp.ClientSession

    def who(self, person: TeamsUser, tenant: str) -> dict[str, Any]:
        """`person` in the connector's roster, as the keyword arguments of `activity()`."""
        return dict(person=self.connector.add(person, tenant), tenant=tenant, service_url=self.connector.url)

    async def post(self, body: object, headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        headers = {"Content-Type": "application/json", **(headers or {})}
        async with self.http.post(self.url + "/api/messages", data=data, headers=headers) as response:
            await response.read()
            return response


@asynccontextmanager
async def running(make_app: Callable[[MockConnector], web.Application]) -> AsyncIterator[Bot]:
    """Serve the app `make_app` builds on an ephemeral loopback port, beside a fresh mock connector."""
    connector = MockConnector()
    await connector.start()
    server = TestServer(make_app(connector), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield Bot(str(server.make_url("")).rstrip("/"), connector, http)
    finally:
        await server.close()
        await connector.close()


class TokenIssuer:
    """Signs Bot Framework channel tokens with a key made here, and publishes its public half."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        # Another channel's key, published beside ours: a token it signed is no Teams token.
        self.webchat_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.webchat_kid = uuid.uuid4().hex
        webchat = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.webchat_key.public_key()))
        self._keys = {
            "keys": [
                {**jwk, "kid": self.kid, "use": "sig", "endorsements": ["msteams"]},
                {**webchat, "kid": self.webchat_kid, "use": "sig", "endorsements": ["webchat"]},
            ]
        }
        self._server: ThreadingHTTPServer | None = None
        self.metadata_url = ""

    def token(self, service_url: str, *, key: Any = None, kid: str | None = None, **claims: Any) -> str:
        """A valid channel token for `service_url`; `claims` override or add (None removes).

        `key` signs with another private key, `kid` names another key id.
        """
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": BOT_FRAMEWORK_ISSUER,
            "aud": self.app_id,
            "serviceurl": service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + 3600,
            **claims,
        }
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def start(self) -> None:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                base = f"http://127.0.0.1:{self.server.server_address[1]}"
                if self.path == "/openid":
                    body = {"issuer": BOT_FRAMEWORK_ISSUER, "jwks_uri": f"{base}/keys"}
                elif self.path == "/keys":
                    body = issuer._keys
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.metadata_url = f"http://127.0.0.1:{self._server.server_address[1]}/openid"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@pytest.fixture(params=SDKS)
def sdk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Sdk:
    """Each SDK in turn.

    Tests build `Settings` directly, which never reads the environment, so the choice
    HAMPSHIRE_TEAMS_SDK makes through `Settings.teams_sdk` is stood in for here (test_sdk.py proves
    the variable reaches `chosen_sdk`); processes a test starts read the variable itself.
    """
    chosen: Sdk = request.param
    use_sdk(monkeypatch, chosen)
    return chosen


def use_sdk(monkeypatch: pytest.MonkeyPatch, chosen: Sdk) -> None:
    """Serve Teams through `chosen` in this process and in the processes a test starts."""
    monkeypatch.setenv("HAMPSHIRE_TEAMS_SDK", chosen)
    monkeypatch.setattr(teams_sdk, "chosen_sdk", lambda settings: chosen)
