"""The Slack side of the wire, for tests and benchmarks: a mock Web API and signed requests.

`MockSlack` is a local HTTP server standing in for https://slack.com/api/ (the bolt-python pattern,
tests/mock_web_api_server): it records every call, answers the methods the bot uses as Slack
documents them, can be told to fail (429 with Retry-After, errors), and serves a Socket Mode
WebSocket. `SlackRig` runs the bot's real aiohttp application on an ephemeral port next to it,
in a background event loop, and posts signed requests shaped exactly like Slack's.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from bot.app import create_app
from bot.channels.slack.adapter import SLACK, SlackBot, make_slack_channel
from bot.runtime import Runtime
from dialogs.types import Reply
from tests.bot.helpers import deliverer

__all__ = [
    "BOT_TOKEN",
    "SECRET",
    "TEAM",
    "Call",
    "LoopThread",
    "MockSlack",
    "Response",
    "SlackConversation",
    "SlackRig",
    "as_slack_sends",
    "reply_keys",
    "slack_signature",
]

T = TypeVar("T")
#: Message timestamps the mock gives (seconds since 1970): after any time a test's clock is set to,
#: as a real message's would be.
TS_BASE = 1900000000

# Fake credentials; they must never look like real tokens (xox[bpa]- followed by a digit).
BOT_TOKEN = "xoxb-test-bot-token"
APP_TOKEN = "xapp-test-app-token"
SECRET = "test-signing-secret"
TEAM = "T0HAMPSHIRE"
OTHER_TEAM = "T0OTHERFORCE"
BOT_USER = "U0BOT"


@dataclass
class Call:
    """One request the bot made to the Web API."""

    method: str
    args: dict[str, Any]
    token: str | None
    at: float | None = None  # the mock's `clock` when the call arrived, if it was given one


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class MockSlack:
    """A local Slack Web API that records each call (and a Socket Mode endpoint)."""

    def __init__(self, team: str = TEAM) -> None:
        self.team = team
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.failures: dict[str, list[_Failure]] = {}
        self.url = ""
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.socket_acks: list[dict[str, Any]] = []
        self.history: dict[str, list[dict[str, Any]]] = {}
        #: Files uploaded through the upload URLs `files.getUploadURLExternal` gave, by file id.
        self.uploads: dict[str, bytes] = {}
        self.socket: web.WebSocketResponse | None = None
        self.socket_ready = asyncio.Event()
        #: When set, each call records the time it arrived by this clock (`Call.at`).
        self.clock: Callable[[], float] | None = None
        # Notified on every Web API call and Socket Mode message, for `until`.
        self._changed = asyncio.Condition()

    # --- set-up -----------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        email: str | None,
        *,
        team: str | None = None,
        name: str | None = None,
        **flags: Any,
    ) -> None:
        """A person Slack knows: users.info answers with their profile (email needs users:read.email)."""
        profile = {"real_name": name or user_id, "display_name": name or user_id}
        if email:
            profile["email"] = email
        self.users[user_id] = {
            "id": user_id,
            "team_id": team or self.team,
            "name": user_id.lower(),
            "real_name": name or user_id,
            "deleted": False,
            "is_bot": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "profile": profile,
            **flags,
        }

    def fail(
        self,
        method: str,
        status: int = 429,
        *,
        error: str = "ratelimited",
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail (429 answers carry Retry-After)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.failures.setdefault(method, []).extend(
            _Failure(status, {"ok": False, "error": error}, headers) for _ in range(times)
        )

    def calls_to(self, method: str) -> list[Call]:
        """The calls made to `method`, oldest first."""
        return [c for c in self.calls if c.method == method]

    async def until(self, seen: Callable[[], bool], guard: float = 10) -> None:
        """Return once `seen()` holds, re-checked on each call and Socket Mode message (run on the
        mock's loop). `guard` only stops a test that would otherwise wait for ever."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(seen), guard)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- serving ----------------------------------------------------------------------------

    async def start(self) -> str:
        """Listen on an ephemeral port; returns the base URL (what SLACK_API_URL is set to)."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/socket", self._socket)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/api/"
        return self.url

    async def stop(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update(await request.post())
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        args = await self._args(request)
        self.calls.append(Call(method, args, token, self.clock() if self.clock else None))
        await self._notify()
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != expected:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        queue = self.failures.get(method)
        if queue:
            failure = queue.pop(0)
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        return web.json_response(self._answer(method, self.calls[-1].args))

    async def _upload(self, request: web.Request) -> web.Response:
        """Where a file's bytes go, as to Slack's upload URL (no token: the URL is the secret)."""
        file_id = request.match_info["file_id"]
        self.uploads[file_id] = await request.read()
        await self._notify()
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"{TS_BASE}.{next(self._ts):06d}"
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):06d}"
            return {
                "ok": True,
                "upload_url": self.url.replace("/api/", f"/upload/{file_id}"),
                "file_id": file_id,
            }
        if method == "files.completeUploadExternal":
            files = args.get("files")
            files = json.loads(files) if isinstance(files, str) else files or []
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method == "chat.postMessage":
            channel = f"D{args.get('channel')}"
            message = {"type": "message", "ts": ts, "text": args.get("text")}
            if args.get("metadata"):
                metadata = args["metadata"]
                message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
            self.history.setdefault(channel, []).insert(0, message)
            return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{args.get('users')}"}}
        if method == "conversations.history":
            oldest = float(args.get("oldest") or 0)
            messages = [m for m in self.history.get(str(args.get("channel")), []) if float(m["ts"]) > oldest]
            return {"ok": True, "messages": messages, "has_more": False}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "users.info":
            user = self.users.get(str(args.get("user")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method in ("views.publish", "views.open"):
            return {"ok": True, "view": {**args.get("view", {}), "id": f"V{ts.replace('.', '')}"}}
        if method == "auth.test":
            return {"ok": True, "team_id": self.team, "user_id": BOT_USER, "bot_id": "B0BOT"}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.url.replace("http://", "ws://").replace("/api/", "/socket")}
        return {"ok": True}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.socket = socket
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0TEST"}}
        )
        self.socket_ready.set()
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
                await self._notify()
        return socket

    async def push(self, payload: dict[str, Any], kind: str = "events_api") -> str:
        """Send one Socket Mode envelope to the connected app; returns its envelope id."""
        await asyncio.wait_for(self.socket_ready.wait(), 10)
        assert self.socket is not None
        envelope_id = f"env-{next(self._ts)}"
        await self.socket.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": False,
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return envelope_id


def slack_signature(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """Slack's signature headers: HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the secret."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def reply_keys(blocks: list[dict[str, Any]]) -> list[str]:
    """The pack string ids of the replies in a rendered message (their first block's id)."""
    return [b["block_id"].split("#")[0] for b in blocks if "#" in b.get("block_id", "")]


def is_nudge(message: dict[str, Any]) -> bool:
    """Whether a posted message is one the delivery worker sent (a reminder, notice, leaflet), not
    the reply to a turn: its metadata key is the nudge's."""
    key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key")
    return str(key).startswith("hampshire-nudge-")


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def as_slack_sends(text: str) -> str:
    """Typed text as Slack delivers it: `&`, `<`, `>` escaped, emails turned into mailto links."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _EMAIL.sub(lambda m: f"<mailto:{m.group(0)}|{m.group(0)}>", escaped)


# --- running the bot ----------------------------------------------------------------------------


class LoopThread:
    """An event loop in a background thread, for driving async servers from plain tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="slack-rig", daemon=True)
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass
class Response:
    """What our endpoint answered."""

    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class SlackRig:
    """The bot's aiohttp application on a real port with Slack mocked at its Web API only."""

    def __init__(self, runtime: Runtime, *, secret: str | None = SECRET, team: str = TEAM) -> None:
        self.loop = LoopThread()
        self.mock = MockSlack(team)
        url = self.loop.run(self.mock.start())
        settings = runtime.settings.replace(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=secret,
            slack_app_token=APP_TOKEN,
            slack_team_id=team,
            slack_api_url=url,
        )
        self.runtime = replace(runtime, settings=settings)
        self.clock = runtime.clock
        self.sleeps: list[float] = []
        self.app = create_app(self.runtime)
        self.bot: SlackBot = self.app[SLACK]
        self.bot.channel.sleep = self._sleep
        self.runner = web.AppRunner(self.app, access_log=None)
        self.loop.run(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run(site.start())
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/slack/events"
        self._ids = itertools.count(1)
        self.secret = secret or SECRET

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def close(self) -> None:
        self.loop.run(self.runner.cleanup())
        self.loop.run(self.mock.stop())
        self.loop.close()

    def settle(self) -> None:
        """Wait until the bot has finished all work it acknowledged."""
        self.loop.run(self.bot.settle())

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    # --- posting ----------------------------------------------------------------------------

    def signed_headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        """Headers as Slack sends them (`slack_signature`)."""
        ts = timestamp if timestamp is not None else int(self.clock().timestamp())
        return slack_signature(self.secret, body, ts)

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        sign: bool = True,
        settle: bool = True,
    ) -> Response:
        """POST to /slack/events (signed unless told otherwise) and, by default, wait for the work."""
        sent = {
            "Content-Type": content_type,
            **(self.signed_headers(body) if sign else {}),
            **(headers or {}),
        }
        request = urllib.request.Request(self.url, data=body, headers=sent, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                response = Response(answer.status, answer.read().decode())
        except urllib.error.HTTPError as error:
            response = Response(error.code, error.read().decode())
        if settle:
            self.settle()
        return response

    def post_json(self, payload: dict[str, Any], **options: Any) -> Response:
        return self.post(json.dumps(payload).encode(), "application/json", **options)

    def post_form(self, fields: dict[str, str], **options: Any) -> Response:
        return self.post(
            urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded", **options
        )

    def post_interaction(self, payload: dict[str, Any], **options: Any) -> Response:
        return self.post_form({"payload": json.dumps(payload)}, **options)

    # --- payloads, shaped as Slack documents them -------------------------------------------

    def envelope(
        self, event: dict[str, Any], *, event_id: str | None = None, team: str | None = None
    ) -> dict[str, Any]:
        team = team or TEAM
        return {
            "token": "verification-token-unused",
            "team_id": team,
            "api_app_id": "A0TEST",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or self.next_id("Ev"),
            "event_time": int(self.clock().timestamp()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team,
                    "user_id": BOT_USER,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ",
        }

    def message_event(self, user: str, text: str, **extra: Any) -> dict[str, Any]:
        ts = f"{int(self.clock().timestamp())}.{next(self._ids):06d}"
        return {
            "client_msg_id": f"msg-{ts}",
            "type": "message",
            "text": text,
            "user": user,
            "ts": ts,
            "team": TEAM,
            "channel": f"D{user}",
            "event_ts": ts,
            "channel_type": "im",
            **extra,
        }

    def dm(self, user: str, text: str, *, event_id: str | None = None, **options: Any) -> Response:
        """The person writes to the bot in its direct message (event `message.im`)."""
        return self.post_json(self.envelope(self.message_event(user, text), event_id=event_id), **options)

    def mention(self, user: str, text: str, channel: str = "C0GENERAL", **options: Any) -> Response:
        """The person mentions the bot in a channel (event `app_mention`)."""
        ts = f"{int(self.clock().timestamp())}.{next(self._ids):06d}"
        event = {
            "type": "app_mention",
            "user": user,
            "text": f"<@{BOT_USER}> {text}",
            "ts": ts,
            "team": TEAM,
            "channel": channel,
            "event_ts": ts,
        }
        return self.post_json(self.envelope(event), **options)

    def home_opened(self, user: str, **options: Any) -> Response:
        """The person opens the bot's Home tab (event `app_home_opened`)."""
        ts = f"{int(self.clock().timestamp())}.{next(self._ids):06d}"
        event = {
            "type": "app_home_opened",
            "user": user,
            "channel": f"D{user}",
            "tab": "home",
            "event_ts": ts,
        }
        return self.post_json(self.envelope(event), **options)

    def command(
        self, user: str, text: str, *, channel: str = "C0GENERAL", team: str = TEAM, **options: Any
    ) -> Response:
        """`/hampshire <text>` (form-encoded, as slash commands are)."""
        fields = {
            "token": "verification-token-unused",
            "team_id": team,
            "team_domain": "example-force",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/hampshire",
            "text": text,
            "api_app_id": "A0TEST",
            "is_enterprise_install": "false",
            "response_url": "https://hooks.slack.com/commands/T0HAMPSHIRE/1/x",
            "trigger_id": self.next_id("trig-"),
        }
        return self.post_form(fields, **options)

    def _user(self, user: str, team: str) -> dict[str, Any]:
        return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team}

    def shortcut(self, user: str, callback_id: str = "report_assault", **options: Any) -> Response:
        """The global shortcut (no channel)."""
        payload = {
            "type": "shortcut",
            "token": "verification-token-unused",
            "action_ts": f"{int(self.clock().timestamp())}.000001",
            "team": {"id": TEAM, "domain": "example-force"},
            "user": self._user(user, TEAM),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self.next_id("trig-"),
        }
        return self.post_interaction(payload, **options)

    def click(
        self,
        user: str,
        action: dict[str, Any],
        *,
        home: bool = False,
        state: dict[str, Any] | None = None,
        user_team: str = TEAM,
        message_ts: str = "1790000000.000001",
        **options: Any,
    ) -> Response:
        """A button press (`block_actions`), in the DM (on the message `message_ts`) or on the Home tab."""
        pressed = {
            "action_id": action["action_id"],
            "block_id": action.get("block_id", "b"),
            "text": action.get("text", {"type": "plain_text", "text": "x"}),
            "value": action.get("value"),
            "type": action.get("type", "button"),
            "action_ts": f"{int(self.clock().timestamp())}.000002",
        }
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user, user_team),
            "api_app_id": "A0TEST",
            "token": "verification-token-unused",
            "trigger_id": self.next_id("trig-"),
            "team": {"id": TEAM, "domain": "example-force"},
            "enterprise": None,
            "is_enterprise_install": False,
            "actions": [pressed],
        }
        if home:
            payload["container"] = {"type": "view", "view_id": "V0HOME"}
            payload["view"] = {
                "id": "V0HOME",
                "team_id": TEAM,
                "type": "home",
                "callback_id": "",
                "state": {"values": state or {}},
            }
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": f"D{user}",
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": f"D{user}", "name": "directmessage"}
            payload["message"] = {"type": "message", "ts": message_ts, "text": "..."}
            payload["response_url"] = "https://hooks.slack.com/actions/T0HAMPSHIRE/1/x"
        return self.post_interaction(payload, **options)

    def submit_view(
        self, user: str, view: dict[str, Any], values: dict[str, Any], **options: Any
    ) -> Response:
        """A modal submitted (`view_submission`) with the given input values."""
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "example-force"},
            "user": self._user(user, TEAM),
            "api_app_id": "A0TEST",
            "token": "verification-token-unused",
            "trigger_id": self.next_id("trig-"),
            "view": {**view, "id": "V0MODAL", "team_id": TEAM, "state": {"values": values}},
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self.post_interaction(payload, **options)

    def url_verification(self, challenge: str) -> Response:
        return self.post_json(
            {"token": "verification-token-unused", "challenge": challenge, "type": "url_verification"}
        )

    # --- reading what the bot sent ----------------------------------------------------------

    def messages_to(self, user: str) -> list[dict[str, Any]]:
        """Every chat.postMessage to the person's DM, oldest first."""
        return [c.args for c in self.mock.calls_to("chat.postMessage") if c.args.get("channel") == user]

    def buttons(self, message: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for block in message.get("blocks", []):
            if block["type"] == "actions":
                yield from block["elements"]

    def talk_as(self, email: str) -> SlackConversation:
        """A colleague of the workspace, with this work email, talking to the bot."""
        user = f"U0T{len(self.mock.users):04d}"
        self.mock.add_user(user, email)
        return SlackConversation(self, user)


class SlackConversation:
    """One person talking to the bot over Slack, as transcripts drive it (`tests.channel.Talker`).

    Typing is a DM event, picking presses a button of the last answer, starting a flow is
    `/hampshire <word>`, resuming is `/hampshire` alone. Replies are read back from what the bot
    posted to the person's DM, by their string ids.
    """

    def __init__(self, rig: SlackRig, user: str) -> None:
        self.rig = rig
        self.user = user
        self.words = {flow: word for word, flow in rig.runtime.pack.meta.app_commands.items()}
        self.last: list[dict[str, Any]] = []

    def _turn(self, send: Callable[[], Response]) -> list[Reply]:
        before = len(self.rig.messages_to(self.user))
        assert send().status == 200
        self.last = self.rig.messages_to(self.user)[before:]
        return [Reply(key=key, text="") for m in self.last for key in reply_keys(m["blocks"])]

    def say(self, text: str) -> list[Reply]:
        return self._turn(lambda: self.rig.dm(self.user, as_slack_sends(text)))

    def pick(self, value: str) -> list[Reply]:
        for message in reversed(self.last):
            for button in self.rig.buttons(message):
                if value in (json.loads(button["value"])["v"], button["text"]["text"]):
                    return self._turn(partial(self.rig.click, self.user, button))
        raise AssertionError(f"no button {value!r} offered; offered: {self.choices()}")

    def start(self, flow: str, text: str = "") -> list[Reply]:
        return self._turn(lambda: self.rig.command(self.user, f"{self.words[flow]} {text}".strip()))

    def resume(self) -> list[Reply]:
        return self._turn(lambda: self.rig.command(self.user, ""))

    def choices(self) -> list[str]:
        return [json.loads(b["value"])["v"] for m in self.last for b in self.rig.buttons(m)]

    def notices(self) -> list[Reply]:
        """One delivery run of the outbox over Slack; what it posted to this person's DM."""
        runtime = self.rig.runtime
        channel = make_slack_channel(runtime.settings, runtime.pack)
        assert channel is not None
        # One at a time, so the DM shows them in the outbox's order, as a transcript expects.
        worker = deliverer(runtime, {"slack": channel}, worker="transcript", concurrency=1)

        def deliver() -> Response:
            self.rig.loop.run(worker.run_once())
            return Response(200, "")

        return self._turn(deliver)
