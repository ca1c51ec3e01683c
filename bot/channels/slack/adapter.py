"""The Slack adapter: slack-bolt on the shared aiohttp application (or over Socket Mode).

A request goes: our own signature check (401 for anything not provably from Slack, before bolt
parses or logs it) -> bolt routes it to a listener -> the listener translates it into `SlackWork`
(`bot.channels.slack.inbound`), checks the workspace and hands it over -> Slack gets its answer -> in the
background the port's work queue (`bot.inbox`) stores the work and does it: who the person is (their
stored identity, else their work email from users.info), the turn, and the replies as Block Kit
(`bot.channels.slack.render`) in their direct message through `SlackChannel`, the seam proactive nudges use.
Everything the bot knows comes through the narrow port (`bot.channels.port.Port`): this module opens
no database session.

This module and `bot.channels.slack.render` are the only ones importing slack_bolt or slack_sdk.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import Clock as SignatureClock
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot import messages
from bot.channels.outbound import Address, Attempt, Delivery, Found, Pace, RetryPolicy, send_with_retry
from bot.channels.port import Known, Port, Update, Visitor
from bot.channels.slack.inbound import (
    ACTIONS,
    CHANNEL,
    NOT_APPLICABLE_VIEW,
    REASON,
    SlackWork,
    foreign_team,
    inbound_from_action,
    inbound_from_command,
    inbound_from_home_opened,
    inbound_from_mention,
    inbound_from_message,
    inbound_from_reason,
    inbound_from_shortcut,
    malformed,
)
from bot.channels.slack.manifest import BOT_EVENTS, COMMAND, REPORT_SHORTCUT
from bot.channels.slack.render import (
    Message,
    render_home,
    render_notice,
    render_reason_modal,
    render_refusal_home,
    render_replies,
)
from bot.clock import Clock
from bot.people.policy import work_email
from bot.reminders.ratelimit import Limit
from bot.settings import Settings, revealed
from dialogs.schema import Pack
from dialogs.types import Chart, Reply

__all__ = [
    "SLACK",
    "RequestVerifier",
    "SlackBot",
    "SlackChannel",
    "SlackConfigError",
    "add_slack_routes",
    "configuration_problem",
    "make_slack_channel",
    "run_socket_mode",
]

log = logging.getLogger(__name__)

SLACK_API_URL = "https://slack.com/api/"
#: Slack's signature tolerance: requests signed longer ago than this are replays.
MAX_AGE_SECONDS = 300
#: Slack errors that say "try again later" although the HTTP status is 200.
_TRANSIENT = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})

Refusal = Literal["other_organisation", "no_work_email", "not_a_person"]
#: What a refused person is told (someone who is not a person is told nothing).
_REFUSALS = {
    "other_organisation": "strings.slack_other_organisation",
    "no_work_email": "strings.slack_no_work_email",
}


class _NotAProblem(logging.Filter):
    """Drops bolt's start-up warning that SLACK_BOT_TOKEN goes unused: bolt reads the variable
    itself, although the token reaches it through the client, as intended."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _quiet_logger(name: str) -> logging.Logger:
    """A logger for the Slack libraries that never passes DEBUG records on.

    slack_sdk logs request bodies (message text) and bolt logs payloads at DEBUG: even a process
    run at DEBUG must not write what people told the bot.
    """
    logger = logging.getLogger(name)
    logger.setLevel(max(logger.getEffectiveLevel(), logging.INFO))
    if not any(isinstance(f, _NotAProblem) for f in logger.filters):
        logger.addFilter(_NotAProblem())
    return logger


# --- configuration -------------------------------------------------------------------------------


class SlackConfigError(RuntimeError):
    """Slack is half-configured in a way that would be unsafe to run."""


def configuration_problem(settings: Settings, *, socket_mode: bool = False) -> str | None:
    """Why Slack cannot be served safely with these settings, or None (also when Slack is off)."""
    if not settings.slack_bot_token:
        return "SLACK_BOT_TOKEN is not set" if socket_mode else None
    if not socket_mode and not settings.slack_signing_secret:
        return (
            "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: without it /slack/events could not tell "
            "Slack's requests from forged ones. Set SLACK_SIGNING_SECRET (the app's Basic Information page), "
            "or use `hampshire slack-socket`."
        )
    if socket_mode and not settings.slack_app_token:
        return "SLACK_APP_TOKEN (xapp-…, scope connections:write) is needed for Socket Mode"
    if not settings.slack_team_id:
        return "SLACK_TEAM_ID is not set: the bot serves exactly one workspace and must know which (T…)"
    return None


def _client(settings: Settings) -> AsyncWebClient:
    # No retry handlers: `send_with_retry` owns retrying, and a connection retry inside the client
    # could post a message twice.
    return AsyncWebClient(
        token=revealed(settings.slack_bot_token),
        base_url=settings.slack_api_url or SLACK_API_URL,
        retry_handlers=[],
        timeout=10,
        logger=_quiet_logger("bot.slack.sdk"),
    )


# --- request verification ------------------------------------------------------------------------


class _SignatureClock(SignatureClock):
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def now(self) -> float:
        return self.clock().timestamp()


_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class RequestVerifier:
    """Slack's request signing, checked before anything else reads the request.

    Every malformed case is a rejection, never an exception: bolt's own check raises on a
    non-numeric timestamp (500) and logs the request body when a signature fails.
    """

    def __init__(self, secret: str, clock: Clock) -> None:
        self.clock = clock
        self.verifier = SignatureVerifier(secret, clock=_SignatureClock(clock))

    def problem(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """Why the request is not provably Slack's (a short code), or None when it is."""
        timestamp = headers.get("X-Slack-Request-Timestamp")
        signature = headers.get("X-Slack-Signature")
        if not timestamp or not signature:
            return "unsigned"
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            return "malformed signature headers"
        if abs(self.clock().timestamp() - int(timestamp)) > MAX_AGE_SECONDS:
            return "stale timestamp"
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return "body is not UTF-8"
        return None if self.verifier.is_valid(text, timestamp, signature) else "bad signature"


# --- calling the Web API -------------------------------------------------------------------------


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    found = next((v for k, v in dict(headers).items() if str(k).lower() == name), None)
    return str(found) if found is not None else None


def _failed(response: Any) -> Attempt:
    """An error response as the retry loop reads it (Slack's `ok: false` comes with HTTP 200)."""
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    error = str(data.get("error")) if isinstance(data, dict) and data.get("error") else f"http {status}"
    retry_after = _header(getattr(response, "headers", None), "retry-after")
    if 200 <= status < 300:
        status = 503 if error in _TRANSIENT else 429 if error == "ratelimited" else 400
    return Attempt(
        status=status,
        retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
        error=error[:60],
    )


async def _attempt(call: Callable[[], Awaitable[AsyncSlackResponse]]) -> tuple[Attempt, dict[str, Any]]:
    """One Web API call; the outcome and the response data."""
    try:
        response = await call()
    except SlackApiError as error:
        return _failed(error.response), {}
    except aiohttp.ClientConnectorError:
        return Attempt(status=0, error="connection failed"), {}
    except (TimeoutError, aiohttp.ClientError) as error:
        # The request may have reached Slack: the delivery is uncertain, not failed.
        return Attempt(status=0, sent=True, error=type(error).__name__), {}
    data = response.data if isinstance(response.data, dict) else {}
    message_id = data.get("ts") or data.get("message_ts")
    return Attempt(status=response.status_code, message_id=str(message_id) if message_id else None), data


#: The event type of the metadata a proactive message carries, to find it again when reconciling.
METADATA_EVENT = "hampshire_nudge"
#: Slack publishes "several hundred a minute" per workspace for chat.postMessage; this stays under.
WORKSPACE_MESSAGES_PER_MINUTE = 525


class SlackChannel:
    """Posts replies to a person's direct message (`chat.postMessage` to their user id).

    Implements `bot.channels.outbound.Channel`. Retries follow `send_with_retry` (Retry-After on 429); a
    delivery that fails reports so, and later messages of the same send are not posted out of order.
    """

    name = CHANNEL
    reads_back = True  # the message's metadata key, in the DM's history

    def __init__(
        self,
        client: AsyncWebClient,
        pack: Pack,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.pack = pack
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self._loop: asyncio.AbstractEventLoop | None = None

    def _keep_alive(self) -> None:
        """One HTTP session per event loop, kept alive between calls.

        Without it the client opens (and closes) a connection, with its TLS handshake, for every
        message: most of what delivering a message cost. An endpoint that opened its own session
        (`SlackEndpoint.start`) keeps it.
        """
        loop = asyncio.get_running_loop()
        session = self.client.session
        if session is not None and not session.closed and (self._loop is None or self._loop is loop):
            return
        self.client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.client.timeout))
        self._loop = loop

    async def aclose(self) -> None:
        """Close the session `call` opened (the deliverer does at the end of each run)."""
        if self._loop is not None and self.client.session is not None:
            await self.client.session.close()
            self.client.session = None
            self._loop = None

    async def call(
        self, call: Callable[[], Awaitable[AsyncSlackResponse]], pace: Pace | None = None
    ) -> tuple[Delivery, dict[str, Any]]:
        """A Web API call with the channel's retry policy; the delivery and the last response data."""
        last: dict[str, Any] = {}
        self._keep_alive()

        async def once() -> Attempt:
            nonlocal last
            if pace is not None:
                await pace()
            attempt, last = await _attempt(call)
            return attempt

        return await send_with_retry(once, policy=self.policy, sleep=self.sleep), last

    async def post(
        self, user: str, message: Message, *, key: str | None = None, pace: Pace | None = None
    ) -> Delivery:
        """Post one rendered message to the person's DM, tagged with `key` in its metadata."""
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}} if key else None
        delivery, _ = await self.call(
            lambda: self.client.chat_postMessage(
                channel=user, text=message.text, blocks=message.blocks, metadata=metadata
            ),
            pace,
        )
        return delivery

    async def send(
        self, address: Address, replies: Sequence[Reply], *, key: str | None = None, pace: Pace | None = None
    ) -> Delivery:
        """Post `replies` to the person at `address` (`address.user_id` is their Slack user id)."""
        first: str | None = None
        attempts = 0
        for message in render_replies(self.pack, replies):
            delivery = await self.post(address.user_id, message, key=key, pace=pace)
            attempts += delivery.attempts
            if delivery.status != "sent":
                return Delivery(delivery.status, message_id=first, error=delivery.error, attempts=attempts)
            first = first or delivery.message_id
        for chart in (reply.chart for reply in replies if reply.chart is not None):
            delivery = await self.upload(address.user_id, chart, pace=pace)
            attempts += delivery.attempts
            if delivery.status != "sent":
                return Delivery(delivery.status, message_id=first, error=delivery.error, attempts=attempts)
        return Delivery("sent", message_id=first, attempts=attempts)

    async def upload(self, user: str, chart: Chart, *, pace: Pace | None = None) -> Delivery:
        """Share a chart as a PNG in the person's DM, after the text it belongs to.

        Slack's upload flow (`files.getUploadURLExternal`, the upload, then
        `files.completeUploadExternal` into the DM's channel), as slack_sdk's `files_upload_v2` does it.
        """
        from bot.reports.charts import chart_image

        png = await asyncio.to_thread(chart_image, chart)
        opened, data = await self.call(lambda: self.client.conversations_open(users=user), pace)
        channel = (data.get("channel") or {}).get("id")
        if opened.status != "sent" or not channel:
            return opened if opened.status != "sent" else Delivery("failed", error="no_dm_channel")
        uploaded, _ = await self.call(
            lambda: self.client.files_upload_v2(
                channel=str(channel), file=png, filename="chart.png", title=chart.title, alt_txt=chart.title
            ),
            pace,
        )
        return Delivery(uploaded.status, error=uploaded.error, attempts=opened.attempts + uploaded.attempts)

    async def lookup(self, address: Address, key: str, *, since: datetime) -> tuple[Found, str | None]:
        """Whether a message tagged `key` is in the person's DM since `since` (by its metadata)."""
        try:
            opened = await self.client.conversations_open(users=address.user_id)
            channel = str(opened["channel"]["id"])
            history = await self.client.conversations_history(
                channel=channel, oldest=f"{since.timestamp():.6f}", include_all_metadata=True, limit=200
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError, KeyError, TypeError):
            return "unknown", None
        for message in history.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if message.get("metadata", {}).get("event_type") == METADATA_EVENT and payload.get("key") == key:
                return "found", str(message.get("ts"))
        if history.get("has_more"):
            return "unknown", None
        return "absent", None

    def limits(self, address: Address) -> Sequence[Limit]:
        """One message a second per DM, and the workspace's "several hundred" a minute."""
        return [
            Limit(f"slack:dm:{address.tenant}:{address.user_id}", 1, 1.0),
            Limit(f"slack:workspace:{address.tenant}", WORKSPACE_MESSAGES_PER_MINUTE, 60.0),
        ]


def make_slack_channel(settings: Settings, pack: Pack | None = None) -> SlackChannel | None:
    """The Slack channel for proactive sends, or None when Slack is not configured."""
    if not settings.slack_bot_token:
        return None
    if pack is None:
        from dialogs.loader import load_pack

        pack = load_pack(settings.pack_dir)
    return SlackChannel(_client(settings), pack)


# --- who is writing ------------------------------------------------------------------------------


class SlackUnavailable(RuntimeError):
    """The Web API could not say who someone is (try again later)."""


class Identities:
    """Who a Slack user is: their stored identity, else their profile's work email; remembered a while.

    users.info (scopes users:read, users:read.email) also says whether the person is a guest or
    belongs to another organisation (Slack Connect): they are refused.
    """

    def __init__(
        self,
        *,
        channel: SlackChannel,
        port: Port,
        team: str,
        clock: Clock,
        ttl: timedelta = timedelta(minutes=30),
    ) -> None:
        self.channel = channel
        self.port = port
        self.team = team
        self.clock = clock
        self.ttl = ttl
        self._cache: OrderedDict[str, tuple[datetime, Known | Refusal]] = OrderedDict()

    def _stored(self, user: str) -> Known | None:
        return self.port.known(channel=CHANNEL, tenant=self.team, user_id=user)

    async def resolve(self, user: str) -> Known | Refusal:
        """The person behind `user`, or why they are refused; raises `SlackUnavailable` if unknowable now."""
        now = self.clock()
        cached = self._cache.get(user)
        if cached and cached[0] > now:
            return cached[1]
        found: Known | Refusal | None = await asyncio.to_thread(self._stored, user)
        if found is None:
            found = await self._look_up(user)
        self._cache[user] = (now + (self.ttl if isinstance(found, Known) else self.ttl / 6), found)
        self._cache.move_to_end(user)
        while len(self._cache) > 10_000:
            self._cache.popitem(last=False)
        return found

    async def _look_up(self, user: str) -> Known | Refusal:
        delivery, data = await self.channel.call(lambda: self.channel.client.users_info(user=user))
        if delivery.status != "sent":
            raise SlackUnavailable(f"users.info: {delivery.error}")
        info = data.get("user") or {}
        profile = info.get("profile") or {}
        if info.get("is_bot") or info.get("deleted"):
            return "not_a_person"
        if info.get("team_id") != self.team or info.get("is_stranger"):
            return "other_organisation"
        if info.get("is_restricted") or info.get("is_ultra_restricted"):
            return "other_organisation"  # guests are not colleagues
        email = work_email(profile.get("email"), pack=self.port.pack)
        if email is None:
            return "no_work_email"
        name = profile.get("real_name") or info.get("real_name") or profile.get("display_name")
        return Known(email, str(name) if name else None)


# --- the bot -------------------------------------------------------------------------------------

Listener = Callable[[dict[str, Any], AsyncAck], Awaitable[None]]

#: Work the listeners of the HTTP request being answered handed over, started once it is answered.
_HANDED_OVER: ContextVar[list[tuple[str, dict[str, Any]]] | None] = ContextVar(
    "slack_handed_over", default=None
)

#: The event types listened for (`BOT_EVENTS`) and how each is translated.
_EVENTS: dict[str, Callable[[dict[str, Any], str], SlackWork | None]] = {
    "message": inbound_from_message,
    "app_mention": inbound_from_mention,
    "app_home_opened": inbound_from_home_opened,
}


def _listener(method: Listener) -> Listener:
    """`method` as bolt calls listeners: by parameter name (a bound method would be given `self`)."""

    async def listener(body: dict[str, Any], ack: AsyncAck) -> None:
        await method(body, ack)

    return listener


class SlackBot:
    """The Slack adapter: the bolt app and its listeners, and what runs after each acknowledgement.

    Args:
        port: the bot, as far as a channel may reach it.
        clock: the time signatures and cached identities are checked against.
        sleep: how to wait before a retry (tests pass a recorder).
    """

    def __init__(
        self,
        port: Port,
        settings: Settings,
        *,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not settings.slack_bot_token or not settings.slack_team_id:
            raise SlackConfigError(
                configuration_problem(settings, socket_mode=True) or "Slack is not configured"
            )
        self.port = port
        self.pack = port.pack
        self.clock = clock
        self.team = settings.slack_team_id
        self.token = settings.slack_bot_token.get_secret_value()
        self.client = _client(settings)
        self.channel = SlackChannel(self.client, self.pack, sleep=sleep)
        self.identities = Identities(channel=self.channel, port=port, team=self.team, clock=clock)
        self.verifier = (
            RequestVerifier(settings.slack_signing_secret.get_secret_value(), clock)
            if settings.slack_signing_secret
            else None
        )
        #: Turns' replies, from the outbox: sent once each, reconciled after a crash.
        self.replies = port.reply_sender(self.channel)
        self.inbox = port.work_queue(
            source=CHANNEL,
            process=self._process,
            queue_of=lambda payload: str(payload.get("user")),
            redact=lambda payload: SlackWork.model_validate(payload).redacted(),
            recover=partial(self.replies.run_once, close=False),
        )
        self.app = self._bolt_app()

    def _bolt_app(self) -> AsyncApp:
        token = self.token

        async def authorize(
            enterprise_id: str | None, team_id: str | None, user_id: str | None
        ) -> AuthorizeResult:
            # One workspace, one bot token: no auth.test call on the acknowledgement path.
            return AuthorizeResult(
                enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, bot_token=token
            )

        app = AsyncApp(
            # Bolt's own client only opens Socket Mode connections: our calls use `self.client`.
            client=AsyncWebClient(
                base_url=self.client.base_url, retry_handlers=[], logger=self.client.logger
            ),
            # Verified by `RequestVerifier` before bolt sees the request (Socket Mode needs none).
            request_verification_enabled=False,
            signing_secret="",
            authorize=authorize,
            # Listeners only translate and hand over to the inbox, so they run before the response
            # goes: no polling for ack(), and no task bolt starts and forgets.
            process_before_response=True,
            # No assistant threads, no say(): nothing to attach to each event.
            attaching_conversation_kwargs_enabled=False,
            logger=_quiet_logger("bot.slack.bolt"),
        )
        # Bolt tries listeners in order, each try costing ~0.1 ms: fewest listeners, busiest first.
        actions = "|".join(ACTIONS)
        app.action(re.compile(rf"^(?:{actions})(?::.*)?$"))(_listener(self._on_action))
        events = "|".join(re.escape(e) for e in BOT_EVENTS.values())
        app.event(re.compile(rf"^(?:{events})$"))(_listener(self._on_event))
        app.view(NOT_APPLICABLE_VIEW)(_listener(self._on_reason))
        app.command(COMMAND)(_listener(self._on_command))
        app.shortcut(REPORT_SHORTCUT)(_listener(self._on_shortcut))
        return app

    # --- entry points -------------------------------------------------------------------------

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        """POST /slack/events: verify, then let bolt route it to a listener."""
        if self.verifier is None:
            raise SlackConfigError("SLACK_SIGNING_SECRET is not set")
        raw = await request.read()
        problem = self.verifier.problem(raw, request.headers)
        if problem:
            log.warning(messages.slack_rejected(problem))
            return web.json_response({"error": "invalid request"}, status=401)
        shape = malformed(raw, request.content_type)
        if shape:
            log.warning(messages.slack_rejected(shape))
            return web.json_response({"error": "malformed request"}, status=400)
        retry = request.headers.get("X-Slack-Retry-Num")
        if retry:
            log.info(messages.slack_retry(retry, request.headers.get("X-Slack-Retry-Reason")))
        try:
            bolt_request = await to_bolt_request(request)
        except ValueError:
            log.warning(messages.slack_rejected("unreadable body"))
            return web.json_response({"error": "invalid request"}, status=400)
        handed_over: list[tuple[str, dict[str, Any]]] = []
        reset = _HANDED_OVER.set(handed_over)
        try:
            response = await to_aiohttp_response(await self.app.async_dispatch(bolt_request))
        finally:
            _HANDED_OVER.reset(reset)
        # Persist, then acknowledge: work Slack has been told about is in the inbox already. If it
        # cannot be stored, Slack is told so (503) and delivers it again, with X-Slack-Retry-Num.
        stored: list[tuple[int, str, dict[str, Any]]] = []
        for key, payload in handed_over:
            try:
                item_id = await self.inbox.store(key, payload)
            except Exception as error:
                log.error(messages.slack_not_stored(key, error))
                return web.json_response({"error": "try again later"}, status=503)
            if item_id is None:
                log.info(messages.inbox_duplicate(CHANNEL, key))
            else:
                stored.append((item_id, key, payload))
        # Answer first, work after: the work's database thread must not compete with the answer.
        await response.prepare(request)
        await response.write_eof()
        for item_id, key, payload in stored:
            self.inbox.run(item_id, key, payload)
        return response

    async def start(self, app: web.Application | None = None) -> None:
        """Open one HTTP session to Slack (kept alive between calls) and take up unfinished work."""
        if self.client.session is None:
            # Without it every Web API call would open (and close) its own TLS connection.
            self.client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.client.timeout)
            )
        self.inbox.start()

    async def close(self, app: web.Application | None = None) -> None:
        """Finish running work, then close the session to Slack."""
        await self.inbox.close()
        if self.client.session is not None:
            await self.client.session.close()
            self.client.session = None

    async def settle(self) -> None:
        """Wait until every acknowledged piece of work has been done (tests, benchmarks)."""
        await self.inbox.settle()

    # --- listeners: acknowledge, translate, check the workspace, hand over; nothing slow -------

    async def _submit(self, body: dict[str, Any], work: SlackWork | None) -> None:
        if work is None:
            return
        foreign = foreign_team(body, self.team)
        if foreign:
            log.warning(messages.slack_refused(work.surface, work.user, foreign, "other organisation"))
            work = work.model_copy(update={"refused": "other_organisation"})
        payload = work.model_dump(mode="json")
        handed_over = _HANDED_OVER.get()
        if handed_over is None:
            # Socket Mode: bolt answers after the listener, so storing here is before the answer;
            # if it raises, bolt does not acknowledge the envelope and Slack sends it again.
            await self.inbox.accept(work.id, payload)
        else:
            handed_over.append((work.id, payload))

    async def _on_event(self, body: dict[str, Any], ack: AsyncAck) -> None:
        await ack()
        translate = _EVENTS.get(str((body.get("event") or {}).get("type")))
        if translate:
            await self._submit(body, translate(body, self.team))

    async def _on_command(self, body: dict[str, Any], ack: AsyncAck) -> None:
        foreign = foreign_team(body, self.team)
        notice = "strings.slack_other_organisation" if foreign else "strings.slack_see_dm"
        await ack(response_type="ephemeral", text=self.pack.text(notice))
        if foreign:
            # Told in the acknowledgement; recorded, nothing else.
            log.warning(
                messages.slack_refused("command", str(body.get("user_id")), foreign, "other organisation")
            )
            self.inbox.spawn(self._audit_refusal("command", "other_organisation"))
            return
        await self._submit(body, inbound_from_command(body, self.team, self.pack.meta.app_commands))

    async def _on_shortcut(self, body: dict[str, Any], ack: AsyncAck) -> None:
        await ack()
        await self._submit(body, inbound_from_shortcut(body, self.team))

    async def _on_action(self, body: dict[str, Any], ack: AsyncAck) -> None:
        await ack()
        work = inbound_from_action(body, self.team)
        if work and work.status == "not_applicable" and not foreign_team(body, self.team):
            self.inbox.spawn(self._ask_reason(work, str(body.get("trigger_id"))))
            return
        await self._submit(body, work)

    async def _on_reason(self, body: dict[str, Any], ack: AsyncAck) -> None:
        work = inbound_from_reason(body, self.team)
        if work is None:
            await ack(
                response_action="errors", errors={REASON: self.pack.text("strings.slack_na_reason_missing")}
            )
            return
        await ack()
        await self._submit(body, work)

    # --- after the acknowledgement --------------------------------------------------------------

    async def _process(self, payload: dict[str, Any], item_id: int) -> bool:
        """Do one piece of stored work; True when its turn deleted it from the inbox (`Process`)."""
        work = SlackWork.model_validate(payload)
        who = work.refused or await self.identities.resolve(work.user)
        if not isinstance(who, Known):
            await self._refuse(work, who)
            return False
        if work.channel:
            await self._notify(work, "strings.slack_see_dm")
        if work.kind == "turn":
            inbound = work.inbound(email=who.email, display_name=who.name)
            # Committed leased to this sender, which sends it at once; a send that fails waits in
            # the outbox for its retries, and a crash before it leaves a lease that lapses and is
            # looked up on Slack before the reply is sent.
            lease = self.replies.turn_lease()
            turn = partial(self.port.handle, inbound, lease=lease, finishes=item_id)
            turned = await asyncio.to_thread(turn)
            try:
                await self.replies.send_turn(inbound, turned)
                await self._update_reminders(work, turned.updates)
            except Exception as error:
                # The turn has committed and finished the work: nothing to attempt again, and its
                # replies wait in the outbox for the sweep's recovery.
                log.error(messages.after_turn_failed(CHANNEL, error))
            return True
        visitor = Visitor(
            CHANNEL, self.team, work.user, who.email, who.name, {"team": self.team, "user": work.user}
        )
        closes = work.status == "done" or (work.status == "not_applicable" and work.reason)
        if work.kind == "mark" and work.case and work.point is not None and work.status and closes:
            mark = partial(self.port.mark_point, reference=work.case, point_id=work.point, status=work.status)
            marked = await asyncio.to_thread(mark, visitor, reason=work.reason)
            if marked.outcome != "done":
                log.info(
                    messages.slack_refused(work.surface, work.user, None, f"mark point: {marked.outcome}")
                )
            await self._update_reminders(work, marked.updates)
        cases = await asyncio.to_thread(self.port.home, visitor)
        await self._publish(work, render_home(self.pack, cases))
        return False

    async def _update_reminders(self, work: SlackWork, updates: Sequence[Update]) -> None:
        """Rewrite in place (`chat.update`) the reminders the port says the person just answered."""
        if not updates:
            return
        channel = work.message[0] if work.message else await self._dm_channel(work)
        if channel is None:
            return
        for update in updates:
            message = render_replies(self.pack, update.replies)[0]
            chat_update = partial(self._chat_update, channel, update.message_id, message)
            delivery, _ = await self.channel.call(chat_update)
            if delivery.status != "sent":
                log.warning(
                    messages.slack_api_failed("chat.update", work.id, delivery.status, delivery.error)
                )

    def _chat_update(self, channel: str, ts: str, message: Message) -> Awaitable[AsyncSlackResponse]:
        return self.client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)

    async def _dm_channel(self, work: SlackWork) -> str | None:
        """The id of the person's DM with the bot (reminders are posted to their user id)."""
        delivery, data = await self.channel.call(lambda: self.client.conversations_open(users=work.user))
        channel = (data.get("channel") or {}).get("id") if delivery.status == "sent" else None
        if channel is None:
            log.warning(
                messages.slack_api_failed("conversations.open", work.id, delivery.status, delivery.error)
            )
        return str(channel) if channel else None

    async def _publish(self, work: SlackWork, view: dict[str, Any]) -> None:
        delivery, _ = await self.channel.call(lambda: self.client.views_publish(user_id=work.user, view=view))
        if delivery.status != "sent":
            log.warning(messages.slack_api_failed("views.publish", work.id, delivery.status, delivery.error))

    async def _notify(self, work: SlackWork, key: str) -> None:
        """A one-sentence notice where the person is: only them in a channel, else their DM."""
        message = render_notice(self.pack, key)
        if work.channel:
            channel, user = work.channel, work.user
            delivery, _ = await self.channel.call(
                lambda: self.client.chat_postEphemeral(
                    channel=channel, user=user, text=message.text, blocks=message.blocks
                )
            )
        else:
            delivery = await self.channel.post(work.user, message)
        if delivery.status != "sent":
            log.warning(messages.slack_delivery_failed(work.id, work.user, delivery.status, delivery.error))

    async def _audit_refusal(self, surface: str, reason: str) -> None:
        refusal = partial(self.port.record_refusal, channel=CHANNEL, surface=surface, reason=reason)
        await asyncio.to_thread(refusal)

    async def _refuse(self, work: SlackWork, reason: Refusal) -> None:
        log.warning(messages.slack_refused(work.surface, work.user, None, reason))
        await self._audit_refusal(work.surface, reason)
        if reason == "not_a_person":
            return
        key = _REFUSALS[reason]
        if work.kind == "home" or work.surface == "home":
            await self._publish(work, render_refusal_home(self.pack, key))
        else:
            await self._notify(work, key)

    async def _ask_reason(self, work: SlackWork, trigger: str) -> None:
        """Open the "why does it not apply?" modal (its trigger lasts 3 seconds: not via the inbox)."""
        if work.case is None or work.point is None:
            return
        view = render_reason_modal(self.pack, case=work.case, point=work.point)
        delivery, _ = await self.channel.call(lambda: self.client.views_open(trigger_id=trigger, view=view))
        if delivery.status != "sent":
            log.warning(messages.slack_api_failed("views.open", work.id, delivery.status, delivery.error))


# --- wiring --------------------------------------------------------------------------------------

SLACK: web.AppKey[SlackBot] = web.AppKey("slack", SlackBot)


def add_slack_routes(app: web.Application, port: Port, settings: Settings, *, clock: Clock) -> None:
    """Serve Slack at POST /slack/events when a bot token is configured; refuse an unsafe setup."""
    problem = configuration_problem(settings)
    if problem:
        raise SlackConfigError(problem)
    if not settings.slack_bot_token:
        return
    bot = SlackBot(port, settings, clock=clock)
    app[SLACK] = bot
    app.router.add_post("/slack/events", bot.handle_http)
    app.on_startup.append(bot.start)
    app.on_cleanup.append(bot.close)


async def run_socket_mode(port: Port, settings: Settings, *, clock: Clock) -> None:
    """Serve Slack over Socket Mode (no public URL; the xapp- token authenticates the connection)."""
    problem = configuration_problem(settings, socket_mode=True)
    if problem:
        raise SlackConfigError(problem)
    bot = SlackBot(port, settings, clock=clock)
    handler = AsyncSocketModeHandler(
        bot.app, revealed(settings.slack_app_token), logger=_quiet_logger("bot.slack.socket")
    )
    await bot.start()
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]
        await asyncio.Event().wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        await bot.close()
