"""Microsoft Teams on botbuilder 4.17: the `POST /api/messages` endpoint and proactive sends.

This is the only module that imports botbuilder or botframework, so moving to the Microsoft 365
Agents SDK touches this file alone. It translates and nothing more: an activity becomes an
`Inbound` for the port (`bot.channels.port.Port`, the only way it reaches the bot: no database
session is opened here), the turn's replies become Adaptive Cards
(`bot.channels.teams.cards`), and a stored conversation reference (our own camelCase wire JSON,
never a pickled SDK object) becomes a proactive send through `CloudAdapter.continue_conversation`.

Modes, from the settings (`teams_mode`):

- **authenticated**: MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID are set.
  Every request's token is validated by the SDK; only that tenant is served.
- **local**: no app id but HAMPSHIRE_ALLOW_UNAUTHENTICATED=1, for a local Teams client (the Agents
  Playground). botbuilder then accepts anyone, so only loopback service URLs are answered, `serve`
  binds to 127.0.0.1 and start-up warns.
- **off**: neither. `/api/messages` refuses every request without processing it.

Every request passes these checks, in order, before the SDK runs a turn or any state is loaded:
well-formed JSON (400), channel `msteams` (403: the Emulator channel is never served), the token
(401: SDK validation; Emulator and skill tokens refused outright), the service URL's origin (403
unless Bot Framework's, or loopback in local mode) and the tenant (403 unless ours).

Connector calls make one try each (msrest's own retries are switched off) and are retried only by
`bot.channels.outbound.send_with_retry`, which honours Retry-After and never drops a message silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from aiohttp import web
from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    CallerIdConstants,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
)
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConfiguration,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    BotFrameworkAuthenticationFactory,
    ChannelValidation,
    ClaimsIdentity,
    ConnectorFactory,
    EmulatorValidation,
    JwtTokenExtractor,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
    SkillValidation,
)
from msrest.authentication import BasicTokenAuthentication
from msrest.exceptions import ClientRequestError, HttpOperationError
from urllib3 import Retry
from urllib3.exceptions import NewConnectionError

from bot import messages
from bot.channels.inbound import Inbound
from bot.channels.outbound import Address, Attempt, Delivery, Found, Pace, RetryPolicy, send_with_retry
from bot.channels.port import Port, Update
from bot.channels.teams.cards import CARD_CONTENT_TYPE, read_submit, render_cards
from bot.clock import Clock, system_clock
from bot.people.policy import work_email
from bot.reminders.ratelimit import Limit
from bot.settings import Settings
from dialogs.render import fill
from dialogs.schema import Pack
from dialogs.types import Reply

__all__ = [
    "CHANNEL",
    "LOOPBACK_HOSTS",
    "TeamsChannel",
    "TeamsConfigError",
    "TeamsOptions",
    "add_teams_routes",
    "conversation_reference",
    "make_teams_channel",
    "retry_after_seconds",
    "teams_mode",
]

log = logging.getLogger(__name__)

CHANNEL = "msteams"
Mode = Literal["authenticated", "local", "off"]

#: Where Teams posts from in the public cloud; every region is a path under this origin.
BOT_FRAMEWORK_SERVICE_ORIGINS = frozenset({"https://smba.trafficmanager.net"})
#: Hosts that are this machine: the only ones local mode listens on or talks to.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_EXECUTE = "adaptiveCard/action"
_MAX_CACHED_MEMBERS = 10_000
_MAX_CONNECTOR_CLIENTS = 64


class TeamsConfigError(RuntimeError):
    """The Teams settings are half there: refuse to start rather than run without authentication."""


def teams_mode(settings: Settings) -> Mode:
    """Whether Teams is served with authentication, locally without it, or not at all."""
    if settings.microsoft_app_id:
        missing = [
            name
            for name, value in (
                ("MICROSOFT_APP_PASSWORD", settings.microsoft_app_password),
                ("MICROSOFT_APP_TENANT_ID", settings.microsoft_app_tenant_id),
            )
            if not value
        ]
        if missing:
            raise TeamsConfigError(f"MICROSOFT_APP_ID is set but {' and '.join(missing)} not")
        return "authenticated"
    return "local" if settings.allow_unauthenticated else "off"


@dataclass(frozen=True)
class TeamsOptions:
    """Tuning and test seams; production uses the defaults.

    Args:
        openid_metadata_url: where the channel's signing keys are published (None: Bot Framework's).
        service_origins: scheme://host[:port] a service URL may have when authenticated.
        outbound_token: a fixed bearer token for calls to the connector, instead of fetching one
            from Entra ID (tests against a local mock connector only).
        reply_policy: retries for replies within a turn (Teams waits 15 s for the whole turn).
        send_policy: retries for proactive sends.
        call_timeout: seconds one call to the connector may take.
        member_ttl: how long a member's email, looked up with TeamsInfo, is remembered.
        sleep: how retries wait (tests record the delays instead).
    """

    openid_metadata_url: str | None = None
    service_origins: frozenset[str] = BOT_FRAMEWORK_SERVICE_ORIGINS
    outbound_token: str | None = field(default=None, repr=False)
    reply_policy: RetryPolicy = RetryPolicy(attempts=3, base_delay=0.5, max_delay=2.0, max_retry_after=4.0)
    send_policy: RetryPolicy = RetryPolicy()
    call_timeout: float = 10.0
    member_ttl: timedelta = timedelta(hours=1)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


# --- wire JSON ---------------------------------------------------------------------------------------


def conversation_reference(activity: Activity) -> dict[str, Any]:
    """Where to reach the sender later, as Bot Framework wire JSON (camelCase).

    Built field by field rather than with the SDK's serializer, which writes the tenant under the
    key `tenantID` (and so loses Teams' `tenantId`); this shape outlives the SDK.
    """
    sender = activity.from_property
    conversation = activity.conversation
    reference: dict[str, Any] = {
        "channelId": activity.channel_id,
        "serviceUrl": activity.service_url,
        "conversation": {
            "id": conversation.id,
            "conversationType": conversation.conversation_type,
            "tenantId": conversation.tenant_id,
        },
        "user": {"id": sender.id, "name": sender.name, "aadObjectId": sender.aad_object_id},
        "bot": {"id": activity.recipient.id, "name": activity.recipient.name},
        "locale": activity.locale,
    }
    return _without_nulls(reference)


def _without_nulls(value: dict[str, Any]) -> dict[str, Any]:
    return {k: _without_nulls(v) if isinstance(v, dict) else v for k, v in value.items() if v is not None}


def _reference_from_wire(data: Mapping[str, Any]) -> ConversationReference | None:
    """The SDK's reference for stored wire JSON, or None when it lacks what a send needs."""
    conversation, user, bot = data.get("conversation"), data.get("user"), data.get("bot")
    if not (isinstance(conversation, Mapping) and isinstance(user, Mapping) and isinstance(bot, Mapping)):
        return None
    if not all(isinstance(v, str) and v for v in (data.get("serviceUrl"), conversation.get("id"))):
        return None
    return ConversationReference(
        channel_id=data.get("channelId", CHANNEL),
        service_url=data["serviceUrl"],
        locale=data.get("locale"),
        conversation=ConversationAccount(
            id=conversation["id"],
            conversation_type=conversation.get("conversationType"),
            tenant_id=conversation.get("tenantId"),
        ),
        user=ChannelAccount(id=user.get("id"), name=user.get("name"), aad_object_id=user.get("aadObjectId")),
        bot=ChannelAccount(id=bot.get("id"), name=bot.get("name")),
    )


def _tenants(body: Mapping[str, Any]) -> set[str]:
    """Every tenant id the activity names (channelData and conversation should agree)."""
    found: set[str] = set()
    channel_data = body.get("channelData")
    tenant = channel_data.get("tenant") if isinstance(channel_data, Mapping) else None
    if isinstance(tenant, Mapping) and isinstance(tenant.get("id"), str):
        found.add(tenant["id"].strip().lower())
    conversation = body.get("conversation")
    if isinstance(conversation, Mapping) and isinstance(conversation.get("tenantId"), str):
        found.add(conversation["tenantId"].strip().lower())
    return found - {""}


def _without_retries(session: requests.Session, config: Any, kwargs: Any, **send: Any) -> dict[str, Any]:
    """msrest's per-request hook: put back requests' own default, one try per call.

    msrest asks urllib3 for three more tries with backoff (on refused connections; on 5xx and read
    timeouts too with urllib3 1.x), sleeping in a worker thread, resending a POST whose first copy
    may have arrived and hiding the status: `send_with_retry` decides instead.
    """
    for adapter in session.adapters.values():
        if isinstance(adapter, requests.adapters.HTTPAdapter):
            adapter.max_retries = Retry(0, read=False)
    return send


def _card_activity(card: dict[str, Any]) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
    )


def _is_personal(activity: Activity) -> bool:
    return bool(activity.conversation and activity.conversation.conversation_type == "personal")


def _typed(text: str | None, pack: Pack) -> dict[str, Any]:
    """The router input for a typed message: a command of the app's menu (the pack's
    `app_commands`, as Teams types them into the chat) starts its flow, else it is text."""
    said = (text or "").strip()
    word, _, rest = said.partition(" ")
    flow, rest = pack.meta.app_commands.get(word.casefold()), rest.strip()
    if flow == pack.meta.directory_flow:
        return {"start": flow, "start_text": rest}
    if flow and not rest:
        return {"start": flow}
    return {"text": text or ""}


# --- errors from the connector ---------------------------------------------------------------------


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds()) if when.tzinfo else None


def _maybe_delivered(error: ClientRequestError) -> bool:
    """Whether a failed request may still have reached Teams (then a resend could duplicate it)."""
    inner = getattr(error, "inner_exception", None) or error.__cause__
    if isinstance(inner, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(inner, requests.exceptions.ConnectionError) and inner.args:
        return not isinstance(getattr(inner.args[0], "reason", None), NewConnectionError)
    return True


async def _attempt(call: Callable[[], Awaitable[Any]], *, timeout: float, clock: Clock) -> Attempt:
    """One call to the connector, its outcome as `send_with_retry` needs it."""
    try:
        result = await asyncio.wait_for(call(), timeout)
    except HttpOperationError as error:
        status = int(getattr(error.response, "status_code", 0) or 0)
        headers = getattr(error.response, "headers", None) or {}
        wait = retry_after_seconds(headers.get("Retry-After"), now=clock())
        return Attempt(status=status, retry_after=wait, error=f"http {status}")
    except ClientRequestError as error:
        return Attempt(status=0, sent=_maybe_delivered(error), error="connection failed")
    except TimeoutError:
        return Attempt(status=0, sent=True, error="timed out")
    return Attempt(status=201, message_id=getattr(result, "id", None))


# --- authentication ------------------------------------------------------------------------------


class _FixedTokenCredentials(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """Outbound credentials with a fixed bearer token (tests against a local mock connector)."""

    def __init__(self, app_id: str, token: str) -> None:
        self._app_id = app_id
        self._token = token

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self._app_id

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> BasicTokenAuthentication:
        return BasicTokenAuthentication({"access_token": self._token})


def _app_id(claims_identity: ClaimsIdentity) -> str:
    claims = claims_identity.claims or {}
    return str(claims.get("aud") or claims.get("appid") or "")


class _ReusedConnectors(ConnectorFactory):  # type: ignore[misc]
    """Connector clients kept per app id, service URL and audience, each making one try per call."""

    def __init__(self, inner: ConnectorFactory, app_id: str, clients: OrderedDict[Any, Any]) -> None:
        self._inner = inner
        self._app_id = app_id
        self._clients = clients

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (self._app_id, service_url, audience)
        client = self._clients.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            client.config.session_configuration_callback = _without_retries
            self._clients[key] = client
            while len(self._clients) > _MAX_CONNECTOR_CLIENTS:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(key)
        return client


class _Authentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """The SDK's authentication, reusing connector clients and making no user-token client.

    CloudAdapter builds both afresh for every turn: about 6 ms each (mostly msrest serializer
    set-up) and a new HTTP session, so no connection is reused. Connector clients are kept, as
    botbuilder's older BotFrameworkAdapter did; this bot never asks for user tokens (no sign-in
    cards); skills and streaming connections stay off (the base class refuses them).
    """

    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self._inner = inner
        self._clients: OrderedDict[Any, Any] = OrderedDict()

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        app_id = _app_id(result.claims_identity)
        result.connector_factory = _ReusedConnectors(result.connector_factory, app_id, self._clients)
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str) -> None:
        raise PermissionError("streaming connections are not served")

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        inner = self._inner.create_connector_factory(claims_identity)
        return _ReusedConnectors(inner, _app_id(claims_identity), self._clients)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> None:
        return None

    def get_originating_audience(self) -> str:
        audience: str = self._inner.get_originating_audience()
        return audience


def _authentication(settings: Settings, mode: Mode, options: TeamsOptions) -> BotFrameworkAuthentication:
    """The SDK's authentication: public cloud, single tenant; none at all in local mode."""
    if mode == "local":
        credentials: ServiceClientCredentialsFactory = PasswordServiceClientCredentialFactory()
    elif options.outbound_token:
        credentials = _FixedTokenCredentials(settings.microsoft_app_id or "", options.outbound_token)
    else:
        credentials = PasswordServiceClientCredentialFactory(
            settings.microsoft_app_id,
            settings.microsoft_app_password.get_secret_value() if settings.microsoft_app_password else None,
            settings.microsoft_app_tenant_id,
        )
    if options.openid_metadata_url is None:
        return _Authentication(
            BotFrameworkAuthenticationFactory.create(
                credential_factory=credentials, auth_configuration=AuthenticationConfiguration()
            )
        )
    # The same public-cloud rules with the signing keys fetched from elsewhere (tests).
    return _Authentication(
        BotFrameworkAuthenticationFactory.create(
            validate_authority=True,
            to_channel_from_bot_login_url=AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
            + (settings.microsoft_app_tenant_id or "botframework.com"),
            to_channel_from_bot_oauth_scope=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
            to_bot_from_channel_token_issuer=AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
            oauth_url=AuthenticationConstants.OAUTH_URL,
            to_bot_from_channel_open_id_metadata_url=options.openid_metadata_url,
            to_bot_from_emulator_open_id_metadata_url=options.openid_metadata_url,
            caller_id=CallerIdConstants.public_azure_channel,
            credential_factory=credentials,
            auth_configuration=AuthenticationConfiguration(),
        )
    )


def _signing_keys_url(options: TeamsOptions) -> str:
    return (
        options.openid_metadata_url
        or ChannelValidation.open_id_metadata_endpoint
        or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    )


def _fetch_signing_keys(url: str) -> None:
    """Load the channel's signing keys into the SDK's cache (run in a worker thread).

    The SDK fetches them with a blocking `requests.get` without a timeout on the first request and
    once a day after, stalling every conversation while it waits; fetching them here, off the event
    loop and more often than the SDK would, keeps that wait out of the request path.
    """
    metadata = JwtTokenExtractor.get_open_id_metadata(url)
    asyncio.run(metadata._refresh())


def _is_foreign_token(header: str) -> bool:
    """Emulator and skill tokens are never accepted here (their checks are weaker; skills are off)."""
    try:
        return bool(
            EmulatorValidation.is_token_from_emulator(header) or SkillValidation.is_skill_token(header)
        )
    except Exception:
        return True  # unreadable: refused like any other bad token


@dataclass(frozen=True)
class _Rules:
    """Which service URLs and tenants a mode accepts."""

    mode: Mode
    tenant: str | None
    service_origins: frozenset[str]

    @classmethod
    def of(cls, settings: Settings, mode: Mode, options: TeamsOptions) -> _Rules:
        tenant = (settings.microsoft_app_tenant_id or "").strip().lower() or None
        return cls(mode, tenant, frozenset(o.lower().rstrip("/") for o in options.service_origins))

    def service_url_allowed(self, url: str | None) -> bool:
        """Authenticated: a Bot Framework origin. Local: a loopback host only."""
        try:
            parts = urlsplit(url or "")
            port = parts.port  # raises for a malformed port
        except ValueError:
            return False
        if parts.username is not None or parts.scheme not in ("http", "https") or port == 0:
            return False
        if self.mode == "authenticated":
            return f"{parts.scheme}://{parts.netloc}".lower() in self.service_origins
        return (parts.hostname or "") in LOOPBACK_HOSTS

    def tenant_of(self, body: Mapping[str, Any], claims: Mapping[str, Any]) -> str | None:
        """The activity's tenant if it may be served, else None."""
        found = _tenants(body)
        if len(found) > 1:
            return None
        if self.tenant is None:
            return next(iter(found), "")
        claimed = claims.get("tid")
        if isinstance(claimed, str) and claimed.strip().lower() != self.tenant:
            return None
        return self.tenant if found == {self.tenant} else None


# --- the bot --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Member:
    email: str | None
    name: str | None
    until: datetime


class _Bot(ActivityHandler):  # type: ignore[misc]
    """Turns activities into the port's inputs and its replies into cards."""

    def __init__(self, port: Port, options: TeamsOptions, clock: Clock) -> None:
        self.port = port
        self.pack = port.pack
        self.options = options
        self.clock = clock
        self._members: OrderedDict[tuple[str, str], _Member] = OrderedDict()

    # --- activities --------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if not _is_personal(activity):
            await self._point_to_personal_chat(turn_context)
            return
        if activity.value is not None and (submitted := read_submit(activity.value)) is not None:
            pick = submitted.pick()
            if pick is None:
                await self._say(turn_context, [self._reply("strings.pick_one")])
            else:
                await self._turn(turn_context, pick=pick)
            return
        await self._turn(turn_context, **_typed(activity.text, self.pack))

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if not any(m.id == activity.recipient.id for m in activity.members_added or []):
            return
        if _is_personal(activity):
            await self._turn(turn_context, resume=True)
        else:
            await self._point_to_personal_chat(turn_context)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if not (activity.action or "").startswith("add") or not _is_personal(activity):
            log.info(messages.teams_installation(activity.action, activity.id))
            return
        member = await self._member(turn_context)
        if member is not None and member.email:
            inbound = self._inbound(turn_context, member)
            # Who installed the bot and where to reach them, once per installation activity.
            await asyncio.to_thread(partial(self.port.link, inbound, event_id=inbound.event_id))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name != _EXECUTE:
            return await super().on_invoke_activity(turn_context)
        action = activity.value.get("action") if isinstance(activity.value, Mapping) else None
        submitted = read_submit(action.get("data")) if isinstance(action, Mapping) else None
        if submitted is None:
            return _card_action_response(400, "application/vnd.microsoft.error", {"code": "BadRequest"})
        if not _is_personal(activity):
            await self._point_to_personal_chat(turn_context)
        elif (pick := submitted.pick()) is None:
            await self._say(turn_context, [self._reply("strings.pick_one")])
        else:
            await self._turn(turn_context, pick=pick)
        return _card_action_response(200, "application/vnd.microsoft.activity.message", "")

    # --- translation -------------------------------------------------------------------------

    def _reply(self, key: str, **values: Any) -> Reply:
        return Reply(key=key, text=fill(self.pack, key, **values))

    def _inbound(self, turn_context: TurnContext, member: _Member, **fields: Any) -> Inbound:
        activity = turn_context.activity
        sender = activity.from_property
        return Inbound(
            channel=CHANNEL,
            tenant=activity.conversation.tenant_id or "",
            user_id=sender.aad_object_id or sender.id,
            email=member.email or "",
            display_name=member.name,
            event_id=activity.id,
            address=conversation_reference(activity),
            **fields,
        )

    async def _turn(self, turn_context: TurnContext, **fields: Any) -> None:
        member = await self._member(turn_context)
        if member is None:
            return
        if not member.email:
            if await self._first_time(turn_context.activity.id):
                domains = ", ".join(self.pack.meta.work_email_domains)
                await self._say(
                    turn_context, [self._reply("strings.teams_work_account_needed", domains=domains)]
                )
            return
        inbound = self._inbound(turn_context, member, **fields)
        turned = await asyncio.to_thread(self.port.handle, inbound)
        await self._say(turn_context, turned.replies)
        await self._update_reminders(turn_context, turned.updates)

    async def _update_reminders(self, turn_context: TurnContext, updates: Sequence[Update]) -> None:
        """Rewrite in place (update activity) the reminder cards the port says were just answered."""
        for update in updates:
            activity = _card_activity(render_cards(update.replies, self.pack)[0])
            activity.id = update.message_id

            async def attempt(activity: Activity = activity) -> Attempt:
                return await _attempt(
                    lambda: turn_context.update_activity(activity),
                    timeout=self.options.call_timeout,
                    clock=self.clock,
                )

            delivery = await send_with_retry(
                attempt, policy=self.options.reply_policy, sleep=self.options.sleep
            )
            if delivery.status != "sent":
                log.warning(messages.teams_reply_failed(turn_context.activity.id, delivery))

    async def _point_to_personal_chat(self, turn_context: TurnContext) -> None:
        if await self._first_time(turn_context.activity.id):
            await self._say(turn_context, [self._reply("strings.teams_one_to_one_only")])

    async def _member(self, turn_context: TurnContext) -> _Member | None:
        """Who is speaking: their work email from Teams' member record (cached), or None on failure.

        A member whose addresses are not work addresses comes back with `email` None.
        """
        activity = turn_context.activity
        key = (activity.conversation.tenant_id or "", activity.from_property.id)
        now = self.clock()
        cached = self._members.get(key)
        if cached is not None and cached.until > now:
            self._members.move_to_end(key)
            return cached
        try:
            account = await asyncio.wait_for(
                TeamsInfo.get_member(turn_context, activity.from_property.id), self.options.call_timeout
            )
        except Exception as error:
            log.warning(messages.teams_member_lookup_failed(activity.id, error))
            await self._say(turn_context, [self._reply("strings.error")])
            return None
        email = work_email(
            getattr(account, "email", None), getattr(account, "user_principal_name", None), pack=self.pack
        )
        member = _Member(email, account.name, now + self.options.member_ttl)
        self._members[key] = member
        while len(self._members) > _MAX_CACHED_MEMBERS:
            self._members.popitem(last=False)
        return member

    async def _first_time(self, event_id: str | None) -> bool:
        """Record an activity handled outside a turn; False if it was (a Teams resend)."""
        if not event_id:
            return True
        return await asyncio.to_thread(partial(self.port.first_time, channel=CHANNEL, event_id=event_id))

    async def _say(self, turn_context: TurnContext, replies: Sequence[Reply]) -> None:
        for card in render_cards(replies, self.pack):
            delivery = await self._send_card(turn_context, _card_activity(card))
            if delivery.status != "sent":
                log.warning(messages.teams_reply_failed(turn_context.activity.id, delivery))

    async def _send_card(self, turn_context: TurnContext, activity: Activity) -> Delivery:
        async def attempt() -> Attempt:
            return await _attempt(
                lambda: turn_context.send_activity(activity),
                timeout=self.options.call_timeout,
                clock=self.clock,
            )

        return await send_with_retry(attempt, policy=self.options.reply_policy, sleep=self.options.sleep)


def _card_action_response(status: int, kind: str, value: object) -> InvokeResponse:
    """The reply to an Action.Execute press (never botbuilder's 501 default)."""
    return InvokeResponse(status=200, body={"statusCode": status, "type": kind, "value": value})


# --- the endpoint --------------------------------------------------------------------------------


def _refusal(status: int, reason: str, activity_id: object = None) -> web.Response:
    log.warning(messages.teams_refused(status, reason, activity_id))
    return web.json_response({"error": reason}, status=status)


class _Endpoint:
    """`POST /api/messages`: the checks, then the SDK's turn."""

    def __init__(
        self, port: Port, settings: Settings, mode: Mode, options: TeamsOptions, clock: Clock
    ) -> None:
        self.mode = mode
        self.options = options
        self.rules = _Rules.of(settings, mode, options)
        self.auth = _authentication(settings, mode, options)
        self.adapter = CloudAdapter(self.auth)
        self.bot = _Bot(port, options, clock)

    async def post(self, request: web.Request) -> web.StreamResponse:
        """Check one request and, if it passes, run its turn; answer with the invoke response."""
        if request.content_type != "application/json":
            return _refusal(415, "expected application/json")
        try:
            body = await request.json()
        except ValueError:
            return _refusal(400, "malformed JSON")
        if not isinstance(body, dict):
            return _refusal(400, "expected an activity")
        try:
            activity = Activity().deserialize(body)
        except Exception:
            return _refusal(400, "malformed activity")
        if not (
            activity.type
            and activity.conversation
            and activity.conversation.id
            and activity.from_property
            and activity.from_property.id
            and activity.recipient
        ):
            return _refusal(400, "incomplete activity", activity.id)
        if activity.channel_id != CHANNEL:
            return _refusal(403, "channel not served", activity.id)
        auth = await self._authenticate(activity, request.headers.get("Authorization", ""))
        if auth is None:
            return _refusal(401, "unauthorized", activity.id)
        if not self.rules.service_url_allowed(activity.service_url):
            return _refusal(403, "service URL not allowed", activity.id)
        tenant = self.rules.tenant_of(body, auth.claims_identity.claims or {})
        if tenant is None:
            return _refusal(403, "tenant not served", activity.id)
        activity.conversation.tenant_id = tenant or None
        log.debug(messages.teams_activity(activity.type, activity.id))
        try:
            response = await self.adapter.process_activity(auth, activity, self.bot.on_turn)
        except Exception as error:
            log.error(messages.turn_failed(CHANNEL, error))
            return web.json_response({"error": "internal error"}, status=500)
        if response is not None:
            return web.json_response(response.body, status=response.status)
        return web.Response(status=200)

    async def _authenticate(self, activity: Activity, header: str) -> AuthenticateRequestResult | None:
        """The SDK's verdict on the token (None: refused); local mode accepts no token at all."""
        if self.mode == "local":
            header = ""
        elif not header or _is_foreign_token(header):
            return None
        try:
            result: AuthenticateRequestResult = await self.auth.authenticate_request(activity, header)
        except Exception as error:  # PermissionError, and IndexError for an unknown signing key
            log.info(messages.teams_token_rejected(activity.id, error))
            return None
        return result

    async def keep_signing_keys_fresh(self, app: web.Application) -> AsyncIterator[None]:
        """Fetch the channel's signing keys at start-up and every 12 hours, off the event loop."""
        url = _signing_keys_url(self.options)

        async def refresh() -> None:
            while True:
                try:
                    await asyncio.to_thread(_fetch_signing_keys, url)
                except Exception as error:
                    log.warning(messages.teams_signing_keys_failed(error))
                await asyncio.sleep(12 * 3600)

        task = asyncio.create_task(refresh())
        yield
        task.cancel()


async def _teams_off(request: web.Request) -> web.Response:
    return _refusal(503, "Microsoft Teams is not enabled on this server")


def add_teams_routes(
    app: web.Application,
    port: Port,
    settings: Settings,
    *,
    clock: Clock,
    options: TeamsOptions | None = None,
) -> None:
    """Serve `POST /api/messages` on `app` in the mode the settings give, and say which at start-up.

    Raises:
        TeamsConfigError: an app id without its password or tenant.
    """
    mode = teams_mode(settings)
    if mode == "off":
        log.info(messages.teams_off())
        app.router.add_post("/api/messages", _teams_off)
        return
    endpoint = _Endpoint(port, settings, mode, options or TeamsOptions(), clock)
    app.router.add_post("/api/messages", endpoint.post)
    if mode == "local":
        log.warning(messages.teams_unauthenticated())
        return
    if settings.allow_unauthenticated:
        log.warning(messages.teams_flag_ignored())
    log.info(messages.teams_on(settings.microsoft_app_tenant_id or ""))
    app.cleanup_ctx.append(endpoint.keep_signing_keys_fresh)


# --- proactive sends -------------------------------------------------------------------------------


class TeamsChannel:
    """Proactive messages to a person's 1:1 chat, from the conversation reference stored for them."""

    name = CHANNEL

    def __init__(
        self,
        adapter: CloudAdapter,
        *,
        app_id: str,
        pack: Pack,
        rules: _Rules,
        options: TeamsOptions,
        clock: Clock,
    ) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._pack = pack
        self._rules = rules
        self._options = options
        self._clock = clock

    async def send(
        self, address: Address, replies: Sequence[Reply], *, key: str | None = None, pace: Pace | None = None
    ) -> Delivery:
        """Post `replies` as cards; retried as `send_with_retry` allows, and never silently lost.

        `key` is not sent: the Bot Connector offers no way to look a message up by it later.
        """
        reference = _reference_from_wire(address.data)
        if reference is None:
            return Delivery("failed", error="no conversation reference", attempts=0)
        if not self._rules.service_url_allowed(reference.service_url):
            return Delivery("failed", error="service URL not allowed", attempts=0)
        attempts, message_id = 0, None
        for card in render_cards(replies, self._pack):
            delivery = await self._send_card(reference, card, pace)
            attempts += delivery.attempts
            if delivery.status != "sent":
                # Part of the message already reached the person: resending all of it duplicates.
                status = "uncertain" if message_id else delivery.status
                return Delivery(status, error=delivery.error, attempts=attempts)
            message_id = delivery.message_id
        return Delivery("sent", message_id=message_id, attempts=attempts)

    async def lookup(self, address: Address, key: str, *, since: datetime) -> tuple[Found, str | None]:
        """Teams cannot list a bot's messages in a 1:1 chat, so whether one arrived is unknown."""
        return "unknown", None

    def limits(self, address: Address) -> Sequence[Limit]:
        """Teams' limits per bot per conversation, and per app per tenant."""
        conversation = (
            f"msteams:conversation:{(address.data.get('conversation') or {}).get('id', address.user_id)}"
        )
        tenant = f"msteams:tenant:{address.tenant}"
        return [
            Limit(conversation, 7, 1.0),
            Limit(conversation, 8, 2.0),
            Limit(conversation, 60, 30.0),
            Limit(conversation, 1800, 3600.0),
            Limit(tenant, 50, 1.0),
        ]

    async def _send_card(
        self, reference: ConversationReference, card: dict[str, Any], pace: Pace | None
    ) -> Delivery:
        async def attempt() -> Attempt:
            return await self._attempt(reference, card, pace)

        return await send_with_retry(attempt, policy=self._options.send_policy, sleep=self._options.sleep)

    async def _attempt(
        self, reference: ConversationReference, card: dict[str, Any], pace: Pace | None
    ) -> Attempt:
        sent: list[Any] = []

        async def post(turn_context: TurnContext) -> None:
            activity = _card_activity(card)
            if pace is not None:  # as late as the SDK allows: just before the request goes out
                await pace()
            sent.append(await turn_context.send_activity(activity))

        async def call() -> Any:
            await self._adapter.continue_conversation(reference, post, bot_app_id=self._app_id)
            return sent[0] if sent else None

        try:
            return await _attempt(call, timeout=self._options.call_timeout, clock=self._clock)
        except Exception as error:
            log.error(messages.teams_send_failed(error))
            return Attempt(status=0, error=type(error).__name__)


def make_teams_channel(
    settings: Settings, *, pack: Pack, clock: Clock = system_clock, options: TeamsOptions | None = None
) -> TeamsChannel | None:
    """The Teams channel for proactive sends, or None when Teams is off.

    Raises:
        TeamsConfigError: an app id without its password or tenant.
    """
    mode = teams_mode(settings)
    if mode == "off":
        return None
    options = options or TeamsOptions()
    return TeamsChannel(
        CloudAdapter(_authentication(settings, mode, options)),
        app_id=settings.microsoft_app_id or "",
        pack=pack,
        rules=_Rules.of(settings, mode, options),
        options=options,
        clock=clock,
    )
