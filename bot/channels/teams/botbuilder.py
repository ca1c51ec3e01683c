"""Microsoft Teams on botbuilder 4.17 (the Bot Framework SDK): the SDK binding, nothing more.

This is the only module that imports botbuilder, botframework or msrest. It reads activities
(`read`), validates tokens with the SDK (`authenticate`), continues a stored conversation
(`continue_conversation`, through `CloudAdapter.continue_conversation` from a stored wire-JSON
reference), and keeps the channel's signing keys fetched off the event loop. Running a turn and
posting a card (`run`, `post`, `CardTurn`) are shared with the Agents SDK in `sdk`; every rule
about who is served, and everything the bot says, is in the shared modules beside it (`endpoint`,
`security`, `handler`, `references`, `proactive`, `cards`).

Connector calls go out through aiohttp on the event loop (`_ConnectorHttp`, in place of msrest's
requests driver and its worker threads), make one try each, and are retried only by
`bot.channels.outbound.send_with_retry`, which honours Retry-After and never drops a message silently.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import ssl
import urllib.parse
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, cast

import aiohttp
import botbuilder.schema
import jwt
import requests
import requests.utils
from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    CallerIdConstants,
    DeliveryModes,
    InputHints,
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
    JwtTokenValidation,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
    SkillValidation,
)
from msrest.authentication import Authentication, BasicTokenAuthentication
from msrest.exceptions import ClientRequestError, HttpOperationError
from msrest.pipeline import Request, Response
from msrest.pipeline.async_abc import AsyncHTTPPolicy, AsyncHTTPSender, AsyncPipeline
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http import ClientRequest
from msrest.universal_http.async_abc import AsyncClientResponse
from requests.structures import CaseInsensitiveDict

from bot import messages
from bot.channels.outbound import Attempt
from bot.channels.teams.handler import MemberRecord
from bot.channels.teams.options import TeamsOptions, retry_after_seconds
from bot.channels.teams.references import StoredReference
from bot.channels.teams.sdk import CardTurn, SdkBinding, SdkCalls, TurnLogic, Verdict
from bot.channels.teams.security import Mode
from bot.clock import Clock
from bot.settings import Settings, revealed

__all__ = ["BotbuilderBinding"]

log = logging.getLogger(__name__)

_MAX_CONNECTOR_CLIENTS = 64


# --- errors from the connector ---------------------------------------------------------------------


class _NotSent(ClientRequestError):
    """A call that failed before anything was sent (its credentials could not be had)."""


def _maybe_delivered(error: ClientRequestError) -> bool:
    """Whether a failed request may still have reached Teams (then a resend could duplicate it):
    not when its credentials failed, no connection was made (refused, unreachable, TLS refused), or
    the proxy refused it or could not be used."""
    inner = getattr(error, "inner_exception", None) or error.__cause__
    never_sent = (aiohttp.ClientConnectorError, aiohttp.ClientHttpProxyError, aiohttp.InvalidURL)
    return not isinstance(error, _NotSent) and not isinstance(inner, never_sent)


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


# --- the connector's HTTP -------------------------------------------------------------------------


_Request = Request[ClientRequest]
_Response = Response[ClientRequest, AsyncClientResponse]


class _Headers:
    """What msrest credentials sign (a requests session, to them): only its headers are read."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}


class _Signed(AsyncHTTPPolicy[ClientRequest, AsyncClientResponse]):
    """Each call's credentials, as the header they would set on a requests session.

    msrest's own policy signs the session of its requests driver, which `_ConnectorHttp` replaces.
    """

    def __init__(self, credentials: Authentication) -> None:
        super().__init__()
        self._credentials = credentials

    async def send(self, request: _Request, **kwargs: Any) -> _Response:
        signed = _Headers()
        try:
            if isinstance(self._credentials, BasicTokenAuthentication):
                self._credentials.signed_session(cast(Any, signed))  # a fixed token: no I/O
            else:
                # MSAL may fetch a token with a blocking call and no timeout: never on the loop.
                await asyncio.to_thread(self._credentials.signed_session, cast(Any, signed))
        except Exception as error:  # no token from Entra ID: nothing was sent
            raise _NotSent("no credentials for the connector", inner_exception=error) from error
        request.http_request.headers.update(signed.headers)
        assert self.next is not None  # the pipeline links every policy to the next
        return await self.next.send(request, **kwargs)


@dataclass(frozen=True)
class _Status:
    """What msrest's errors keep of an answer (`HttpOperationError.response`), by requests' names."""

    status_code: int
    reason: str | None
    headers: CaseInsensitiveDict[str]

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code} {self.reason or ''}".rstrip())


class _Answer(AsyncClientResponse):
    """The connector's answer, read whole (its body is a small JSON document)."""

    def __init__(self, request: ClientRequest, status: _Status, body: bytes) -> None:
        super().__init__(request, status)
        self.status_code = status.status_code
        self.headers = status.headers
        self.reason = status.reason
        self._body = body

    def body(self) -> bytes:
        return self._body

    def raise_for_status(self) -> None:
        self.internal_response.raise_for_status()


class _ConnectorHttp(AsyncHTTPSender[ClientRequest, AsyncClientResponse]):
    """msrest's last step for connector calls: aiohttp on the event loop, one try per call.

    msrest's own driver runs `requests` in a worker thread, a thread held for each call in
    flight, taken from the pool the turns run in; under load that cost as much CPU as the turn's
    own transaction. urllib3 also tries three more times behind the caller's back (on refused
    connections, and on 5xx and read timeouts with urllib3 1.x), sleeping, resending a POST whose
    first copy may have arrived, and hiding the status: `send_with_retry` decides instead. (aiohttp
    itself resends a PUT or GET once on a connection the server had closed, never a POST.) As with
    requests: a proxy from the environment, chosen by requests' rules once a host (aiohttp's own
    `trust_env` would also read ~/.netrc in a worker thread on every call); certificates checked
    against requests' bundle; redirects not followed. No cookie is kept.

    While a server runs (`keep`), one session and its connections serve every call; otherwise
    (a command, a test) each call has its own, closed as it ends.
    """

    def __init__(self) -> None:
        self.keep = False
        self._kept: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    @functools.cached_property
    def _tls(self) -> ssl.SSLContext:
        """requests' trust, not the system's: REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE (a file or a
        folder), else certifi's bundle, as MSAL's token calls in the same process use. Loaded at
        the first HTTPS call (about 40 ms), not as the binding is built: local mode never needs it."""
        bundle = (
            os.environ.get("REQUESTS_CA_BUNDLE")
            or os.environ.get("CURL_CA_BUNDLE")
            or requests.utils.DEFAULT_CA_BUNDLE_PATH
        )
        folder = os.path.isdir(bundle)
        return ssl.create_default_context(
            cafile=None if folder else bundle, capath=bundle if folder else None
        )

    @staticmethod
    def _session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())

    def proxy(self, url: str) -> str | None:
        """The proxy the environment names for `url`, chosen by requests' own rules (HTTPS_PROXY,
        ALL_PROXY, NO_PROXY with its CIDR ranges and ports, a proxy given without a scheme), once
        an origin."""
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme, parts.netloc)
        if key not in self._proxies:
            proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
            self._proxies[key] = requests.utils.prepend_scheme_if_needed(proxy, "http") if proxy else None
        return self._proxies[key]

    async def send(self, request: _Request, **config: Any) -> _Response:
        http = request.http_request
        tls = self._tls if urllib.parse.urlsplit(http.url).scheme == "https" else None
        if not self.keep:
            async with self._session() as session:
                return Response(request, await _exchange(session, http, self.proxy(http.url), tls))
        if self._kept is None or self._kept.closed:
            self._kept = self._session()
        return Response(request, await _exchange(self._kept, http, self.proxy(http.url), tls))

    async def __aexit__(self, *exc_details: object) -> None:
        """Nothing: the kept session is the server's (`discard`), not one client's."""

    async def discard(self) -> None:
        """Close the kept session and keep none."""
        self.keep = False
        session, self._kept = self._kept, None
        if session is not None:
            await session.close()


async def _exchange(
    session: aiohttp.ClientSession, http: ClientRequest, proxy: str | None, tls: ssl.SSLContext | None
) -> _Answer:
    """One request to the connector and its whole answer; a failure is msrest's ClientRequestError."""
    if http.files:
        raise ValueError("the connector is sent JSON, never files")
    try:
        # A redirect is the answer, as msrest's own driver gave it: aiohttp would follow a 302
        # with a GET and take that answer for the message's.
        async with session.request(
            http.method,
            http.url,
            headers=dict(http.headers),
            data=http.data,
            proxy=proxy,
            ssl=tls if tls is not None else True,
            allow_redirects=False,
        ) as answer:
            body = await answer.read()
    except aiohttp.ClientError as error:
        raise ClientRequestError("the connector call failed", inner_exception=error) from error
    return _Answer(http, _Status(answer.status, answer.reason, CaseInsensitiveDict(answer.headers)), body)


def _pipeline(config: Any, http: _ConnectorHttp) -> AsyncPipeline[ClientRequest, AsyncClientResponse]:
    """A connector client's pipeline: msrest's own policies (user agent, reading the answer, its
    HTTP log, off unless enabled), the client's credentials, and `http` to send."""
    policies: list[Any] = [config.user_agent_policy, RawDeserializer(), config.http_logger_policy]
    if config.credentials:
        policies.insert(1, _Signed(config.credentials))
    return AsyncPipeline(policies, http)


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


class _NotPlain(Exception):
    """A value that is not plain JSON (msrest's general rules apply to it)."""


def _plain(value: Any) -> Any:
    """A copy of a plain JSON value (str keys; str, int, float, bool, None leaves): what msrest's
    `serialize_object` makes of one, without its per-node dispatch. Raises `_NotPlain` otherwise."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict:
        if not all(type(key) is str for key in value):
            raise _NotPlain
        return {key: _plain(item) for key, item in value.items()}
    if kind is list:
        return [_plain(item) for item in value]
    raise _NotPlain


def _wire(model: Any) -> dict[str, Any]:
    """`model` as msrest's `Serializer.body` writes it, when it holds only strings (or string
    enums), booleans, plain JSON and other such models, as the activities the bot sends do.
    Raises `_NotPlain` otherwise (a date, a number, a flattened key: msrest's own rules apply)."""
    wire: dict[str, Any] = {}
    for attr, desc in type(model)._attribute_map.items():
        value = getattr(model, attr, None)
        if value is None:
            continue  # msrest leaves out what is not set
        key = desc["key"]
        if not key or "." in key or model._validation.get(attr):
            raise _NotPlain  # additional properties, a flattened key, a read-only value
        wire[key] = _wire_value(value, desc["type"])
    return wire


def _wire_value(value: Any, kind: str) -> Any:
    if kind == "str":
        if type(value) is str:
            return value
        if isinstance(value, Enum) and type(value.value) is str:
            return value.value
    elif kind == "bool":
        if type(value) is bool:
            return value
    elif kind == "object":
        return _plain(value)
    elif kind.startswith("["):
        if type(value) is list:
            return [_wire_value(item, kind[1:-1]) for item in value]
    elif type(value).__name__ == kind and hasattr(value, "_attribute_map"):
        return _wire(value)
    raise _NotPlain


def _serialize_plainly(serializer: Any) -> None:
    """Serialize a connector client's activities, and its free-form values (an Adaptive Card is
    one), as plain JSON without msrest's general machinery when they are plain.

    msrest's `body` first rebuilds the activity through a new deserializer, then walks each of its
    42 attributes and every node of its card through per-type dispatch: about a third of the CPU
    a reply costs the bot, and a tenth of a Teams message's. What the bot sends is strings,
    booleans, accounts and a card, which `_wire` writes directly; anything else still takes
    msrest's own path (a test compares the two). Client-side validation is off because no Bot
    Framework model declares a rule (`_validation` is empty on every one: a test checks it) and
    the connector's URL parameters carry none, so it only walked the activity to find nothing; a
    missing or mistyped value still fails, in serialization.
    """
    general_object = serializer.serialize_type["object"]
    general_body = serializer.body

    def serialize_object(attr: Any, **kwargs: Any) -> Any:
        try:
            return _plain(attr)
        except _NotPlain:
            return general_object(attr, **kwargs)

    def body(data: Any, data_type: str, **kwargs: Any) -> Any:
        if data_type == "Activity" and not kwargs and isinstance(data, Activity):
            try:
                return _wire(data)
            except _NotPlain:
                pass
        return general_body(data, data_type, **kwargs)

    serializer.serialize_type["object"] = serialize_object
    serializer.body = body
    serializer.client_side_validation = False


class _ReusedConnectors(ConnectorFactory):  # type: ignore[misc]
    """Connector clients kept per app id, service URL and audience, each sending through `http`."""

    def __init__(
        self, inner: ConnectorFactory, app_id: str, clients: OrderedDict[Any, Any], http: _ConnectorHttp
    ) -> None:
        self._inner = inner
        self._app_id = app_id
        self._clients = clients
        self._http = http

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (self._app_id, service_url, audience)
        client = self._clients.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            client.config.pipeline = _pipeline(client.config, self._http)
            _serialize_plainly(client._serialize)
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
        self.http = _ConnectorHttp()

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        app_id = _app_id(result.claims_identity)
        result.connector_factory = _ReusedConnectors(
            result.connector_factory, app_id, self._clients, self.http
        )
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str) -> None:
        raise PermissionError("streaming connections are not served")

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        inner = self._inner.create_connector_factory(claims_identity)
        return _ReusedConnectors(inner, _app_id(claims_identity), self._clients, self.http)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> None:
        return None

    def get_originating_audience(self) -> str:
        audience: str = self._inner.get_originating_audience()
        return audience


def _authentication(settings: Settings, mode: Mode, options: TeamsOptions) -> _Authentication:
    """The SDK's authentication: public cloud, single tenant; none at all in local mode."""
    if mode == "local":
        credentials: ServiceClientCredentialsFactory = PasswordServiceClientCredentialFactory()
    elif options.outbound_token:
        credentials = _FixedTokenCredentials(settings.microsoft_app_id or "", options.outbound_token)
    else:
        credentials = PasswordServiceClientCredentialFactory(
            settings.microsoft_app_id,
            revealed(settings.microsoft_app_password),
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


#: How often the signing keys are fetched while all is well (the SDK's own cache lasts a day).
KEYS_REFRESH = 12 * 3600.0
#: The first retry after a failed fetch; each further failure doubles it, up to `KEYS_REFRESH`.
KEYS_RETRY = 30.0


def keys_refresh_delay(failures: int) -> float:
    """Seconds until the next scheduled fetch of the signing keys, after `failures` failures in a row:
    retried with backoff after a failure, not left for the 12 hours a success waits."""
    if failures <= 0:
        return KEYS_REFRESH
    return min(KEYS_REFRESH, KEYS_RETRY * 2.0 ** (failures - 1))


def _fetch_signing_keys(url: str, timeout: float) -> None:
    """Load the channel's signing keys into the SDK's cache (run in a worker thread).

    The SDK fetches them with a blocking `requests.get` without a timeout on the first request and
    once a day after, stalling every conversation while it waits; fetching them here, off the event
    loop and more often than the SDK would, keeps that wait out of the request path. It is the
    SDK's `_refresh` with a timeout on each request: without one, an endpoint that accepts and never
    answers would hold the fetch (and every request waiting for it) for ever.
    """
    metadata = JwtTokenExtractor.get_open_id_metadata(url)
    response = requests.get(url, timeout=timeout)
    response.raise_for_status()
    keys = requests.get(response.json()["jwks_uri"], timeout=timeout)
    keys.raise_for_status()
    metadata.keys = keys.json()["keys"]
    # The SDK's own clock (naive local time), so that it never refreshes the keys itself.
    metadata.last_updated = datetime.now()


def _read_token(header: str) -> tuple[bool, dict[str, Any] | None]:
    """Whether the token is an Emulator or skill token (never accepted here: their checks are
    weaker and skills are off), and its JOSE header (None: unreadable), from one unverified read.

    Exactly the SDK's `EmulatorValidation.is_token_from_emulator` then `SkillValidation.is_skill_token`
    (an unreadable Bearer token counts as foreign, so it is refused like any other bad token), and
    `jwt.get_unverified_header`: PyJWT's parse costs ~0.1 ms (it checks every character), and this
    one read replaces the three the same checks made apart. Nothing is cached: every request's token
    is still validated in full by the SDK.
    """
    bearer = bool(JwtTokenValidation.is_valid_token_format(header))
    try:
        token = jwt.decode_complete(header.partition(" ")[2], options={"verify_signature": False})
    except jwt.PyJWTError:
        return bearer, None  # not Bearer: the SDK refuses it before looking for a key
    except Exception:
        return True, None
    if not bearer:
        return False, token["header"]
    try:
        return _is_foreign(token["payload"]), token["header"]
    except Exception:
        return True, None


def _is_foreign(claims: dict[str, Any]) -> bool:
    """The SDK's emulator test (an issuer of the Emulator's), then its skill test, on read claims."""
    if claims:
        issuer = claims["iss"]  # no issuer at all: unreadable, so foreign (as in the SDK)
        issuers = EmulatorValidation.TO_BOT_FROM_EMULATOR_TOKEN_VALIDATION_PARAMETERS.issuer
        if issuer and not (issuers and issuer not in issuers):
            return True
    return bool(SkillValidation.is_skill_claim(claims))


class _Turn(CardTurn):
    """The shared handler's way back to Teams through botbuilder's TurnContext."""

    _context: TurnContext
    sdk = SdkCalls(botbuilder.schema, InvokeResponse, _attempt)

    async def send(self, card: dict[str, Any]) -> Attempt:
        """Reply with `card` through the turn's connector client, as `TurnContext.send_activity`
        sends a reply, without its deep copy of the activity (card and all: a seventh of the CPU a
        reply cost) and its send pipeline, where nothing of the bot's is hooked. No activity to
        reply to, or replies buffered for the caller (expectReplies): the SDK's own way."""
        context = self._context
        reference = TurnContext.get_conversation_reference(context.activity)
        client = context.turn_state.get(context.adapter.BOT_CONNECTOR_CLIENT_KEY)
        buffered = context.activity.delivery_mode == DeliveryModes.expect_replies
        if client is None or buffered or not reference.activity_id or reference.conversation is None:
            return await super().send(card)
        # As TurnContext addresses it (a fresh activity of the bot's own: nothing to copy).
        activity = TurnContext.apply_conversation_reference(self.sdk.card_activity(card), reference)
        activity.input_hint = InputHints.accepting_input
        attempt = await self.sdk.attempt(
            lambda: client.conversations.reply_to_activity(
                reference.conversation.id, reference.activity_id, activity
            ),
            timeout=self._options.call_timeout,
            clock=self._clock,
        )
        if 200 <= attempt.status < 300:
            context.responded = True
        return attempt

    async def member(self, user_id: str) -> MemberRecord:
        account = await TeamsInfo.get_member(self._context, user_id)
        return MemberRecord(
            getattr(account, "email", None), getattr(account, "user_principal_name", None), account.name
        )


class BotbuilderBinding(SdkBinding):
    """Teams through botbuilder: token validation, turns and proactive posts (`sdk.Binding`)."""

    turn = _Turn

    def __init__(self, settings: Settings, mode: Mode, options: TeamsOptions, clock: Clock) -> None:
        super().__init__(settings, mode, options, clock)
        self.auth = _authentication(settings, mode, options)
        self.adapter = CloudAdapter(self.auth)
        self.keys_url = _signing_keys_url(options)
        self._fetching: asyncio.Future[None] | None = None

    def read(self, body: Mapping[str, Any]) -> Activity | None:
        """The SDK's activity for a request body, or None when msrest cannot read it."""
        try:
            activity: Activity = Activity().deserialize(body)
        except Exception:
            return None
        return activity

    async def authenticate(self, activity: Activity, header: str) -> Verdict | None:
        """The SDK's verdict on the token (None: refused); local mode accepts no token at all."""
        if self.mode == "local":
            header = ""
        elif not header:
            return None
        else:
            foreign, jose = _read_token(header)
            if foreign or (jose is not None and not await self._keys_ready(jose.get("kid"))):
                return None
        try:
            result: AuthenticateRequestResult = await self.auth.authenticate_request(activity, header)
        except Exception as error:  # PermissionError, and IndexError for an unknown signing key
            log.info(messages.teams_token_rejected(activity.id, error))
            return None
        return Verdict(result.claims_identity.claims or {}, result)

    async def continue_conversation(self, reference: StoredReference, logic: TurnLogic) -> None:
        """The SDK's turn in a stored conversation."""
        await self.adapter.continue_conversation(
            self.turn.sdk.reference(reference), logic, bot_app_id=self.app_id
        )

    async def _keys_ready(self, kid: object) -> bool:
        """Make sure the SDK finds the token's signing key cached, fetching keys off the event loop.

        Left alone, the SDK fetches them with a blocking `requests.get` without a timeout, on the
        event loop, whenever its keys are a day old (or an hour old and without the token's key id),
        stalling every request while it waits. False when they could not be fetched in time.
        """
        metadata = JwtTokenExtractor.get_open_id_metadata(self.keys_url)
        # The SDK's own rules on its own clock (naive local time), so that it never refreshes itself.
        now = datetime.now()
        known = any(key.get("kid") == kid for key in metadata.keys)
        if metadata.last_updated >= now - timedelta(days=1) and (
            known or metadata.last_updated >= now - timedelta(hours=1)
        ):
            return True
        try:
            await asyncio.wait_for(asyncio.shield(self._refresh()), self.options.key_timeout)
        except Exception as error:
            log.warning(messages.teams_signing_keys_failed(error))
            return False
        return True

    def _refresh(self) -> asyncio.Future[None]:
        """The fetch of the signing keys in progress, or a new one in a worker thread."""
        if self._fetching is None or self._fetching.done():
            self._fetching = asyncio.ensure_future(
                asyncio.to_thread(_fetch_signing_keys, self.keys_url, self.options.key_timeout)
            )
        return self._fetching

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """Keep one HTTP session for the connector while the server runs, closed when it stops; and
        fetch the channel's signing keys at start-up and every 12 hours, off the event loop, after a
        failure again with backoff (`keys_refresh_delay`)."""
        self.auth.http.keep = True
        keys = asyncio.create_task(self._keep_keys()) if self.mode == "authenticated" else None
        try:
            yield
        finally:
            # One generator, no nested one: a loop shut down without the app's clean-up closes
            # every live generator at once, in no set order.
            if keys is not None:
                keys.cancel()
            await self.auth.http.discard()

    async def _keep_keys(self) -> None:
        failures = 0
        while True:
            try:
                await self._refresh()
                failures = 0
            except Exception as error:
                failures += 1
                log.warning(messages.teams_signing_keys_failed(error))
            await asyncio.sleep(keys_refresh_delay(failures))
