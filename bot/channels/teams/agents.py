"""Microsoft Teams on the Microsoft 365 Agents SDK (1.9): the SDK binding, nothing more.

This is the only module that imports `microsoft_agents`. It reads activities (`read`), validates
tokens with the SDK's `JwtTokenValidator` (`authenticate`), accepting only keys endorsed for Teams,
continues a stored conversation (`continue_conversation`, from the same wire-JSON reference
botbuilder reads and writes), and fetches signing keys in its own worker threads with a timeout,
so a slow or silent key endpoint never stalls the event loop. Running a turn and posting a card
(`run`, `post`, `CardTurn`) are shared with botbuilder in `sdk`; every rule about who is served,
and everything the bot says, is in the shared modules beside it (`endpoint`, `security`,
`handler`, `references`, `proactive`, `cards`).

Connector calls make one try each and are retried only by `bot.channels.outbound.send_with_retry`,
which honours Retry-After and never drops a message silently. The SDK replaces botbuilder, whose
support ended in December 2025, and brings no msrest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import jwt
import microsoft_agents.activity
from aiohttp import web
from microsoft_agents.activity import (
    Activity,
    InvokeResponse,
)
from microsoft_agents.authentication.msal import MsalAuth
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import AgentAuthConfiguration, ClaimsIdentity, TurnContext
from microsoft_agents.hosting.core.authorization import AuthenticationConstants, AuthTypes
from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator
from microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator import _JwkClientManager
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from microsoft_agents.hosting.core.connector.client import UserTokenClient
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

from bot import messages
from bot.channels.outbound import Attempt
from bot.channels.teams.handler import MemberRecord
from bot.channels.teams.options import TeamsOptions, retry_after_seconds
from bot.channels.teams.references import StoredReference
from bot.channels.teams.sdk import CardTurn, SdkBinding, SdkCalls, TurnLogic, Verdict
from bot.channels.teams.security import BOT_FRAMEWORK_ISSUER, CHANNEL, Mode, TeamsConfigError
from bot.clock import Clock
from bot.settings import Settings, revealed

__all__ = ["AgentsBinding", "check_sdk"]

log = logging.getLogger(__name__)

# The SDK logs a request it cannot read at ERROR with every value in it, before any token is
# checked: what a victim typed, from anyone. Its activity module's records are dropped before any
# handler sees them (`read` reports the refusal instead, without the values).
logging.getLogger("microsoft_agents.activity.activity").addFilter(lambda record: False)

#: Where Bot Framework's channel publishes its signing keys (the SDK's own choice for its issuer).
_BOT_FRAMEWORK_SCOPE = "https://api.botframework.com"
_MAX_CONNECTOR_CLIENTS = 64
#: The SDK's private key fetcher on its validator, which `_SigningKeys` replaces.
_KEYS_ATTRIBUTE = "_jwk_client_manager"


# --- errors from the connector ---------------------------------------------------------------------


async def _attempt(call: Callable[[], Awaitable[Any]], *, timeout: float, clock: Clock) -> Attempt:
    """One call to the connector, its outcome as `send_with_retry` needs it."""
    try:
        result = await asyncio.wait_for(call(), timeout)
    except aiohttp.ClientResponseError as error:
        wait = retry_after_seconds(error.headers.get("Retry-After") if error.headers else None, now=clock())
        return Attempt(status=error.status, retry_after=wait, error=f"http {error.status}")
    except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):
        return Attempt(status=0, sent=False, error="connection failed")  # nothing reached Teams
    except aiohttp.ClientConnectionError:
        return Attempt(status=0, sent=True, error="connection failed")  # it may have arrived
    except TimeoutError:
        return Attempt(status=0, sent=True, error="timed out")
    return Attempt(status=201, message_id=getattr(result, "id", None))


# --- authentication ------------------------------------------------------------------------------


class _EndorsedKeys(jwt.PyJWKClient):
    """Signing keys with the channels Bot Framework endorses each for, fetched with a timeout."""

    def __init__(self, uri: str, timeout: float) -> None:
        super().__init__(uri, timeout=int(timeout) or 1)
        self.endorsements: dict[str, frozenset[str]] = {}

    def fetch_data(self) -> Any:
        data = super().fetch_data()
        keys = data.get("keys") if isinstance(data, dict) else None
        self.endorsements = {
            str(key["kid"]): frozenset(key.get("endorsements") or ())
            for key in keys or ()
            if isinstance(key, dict) and "kid" in key
        }
        return data


class _MetadataKeys(_EndorsedKeys):
    """Keys found through OpenID metadata (tests publish their own)."""

    def __init__(self, metadata_url: str, timeout: float) -> None:
        super().__init__(metadata_url, timeout)
        self._metadata_url = metadata_url

    def fetch_data(self) -> Any:
        with urllib.request.urlopen(self._metadata_url, timeout=self.timeout) as response:  # noqa: S310
            self.uri = json.loads(response.read())["jwks_uri"]
        return super().fetch_data()


class _SigningKeys(_JwkClientManager):
    """The validator's signing keys, fetched in threads of our own and given up after a timeout,
    and only those Bot Framework endorses for Teams.

    The SDK already fetches off the event loop, but in the loop's shared default executor, where a
    silent key endpoint would hold the threads the port's database calls need, and without a
    bound on the wait. Nor does it read the keys' endorsements, as botbuilder does: a key the
    channel publishes for another channel (Web Chat, Direct Line) must not sign a Teams token.
    """

    def __init__(self, options: TeamsOptions) -> None:
        self._cache = {}
        self._metadata_url = options.openid_metadata_url
        self._timeout = options.key_timeout
        self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="teams-signing-keys")

    def _get_jwk_client(self, jwks_uri: str) -> Any:
        url = self._metadata_url or jwks_uri
        entry = super()._get_jwk_client(url)
        if not isinstance(entry.jwk_client, _EndorsedKeys):
            entry.jwk_client = (
                _MetadataKeys(url, self._timeout) if self._metadata_url else _EndorsedKeys(url, self._timeout)
            )
        return entry

    async def get_signing_key(self, jwks_uri: str, header: dict[str, Any]) -> jwt.PyJWK:
        entry = self._get_jwk_client(jwks_uri)
        kid = header[AuthenticationConstants.KEY_ID_HEADER]

        def fetch() -> jwt.PyJWK:
            with entry.lock:
                client: _EndorsedKeys = entry.jwk_client
                key: jwt.PyJWK = client.get_signing_key(kid)
                if CHANNEL not in client.endorsements.get(str(kid), ()):
                    raise jwt.InvalidKeyError(f"signing key not endorsed for {CHANNEL}")
                return key

        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(loop.run_in_executor(self._threads, fetch), self._timeout)


def check_sdk(validator: object | None = None) -> None:
    """Make sure the SDK's validator (`validator`, default its class) still has the private part
    `_SigningKeys` replaces (`_jwk_client_manager`).

    Raises:
        TeamsConfigError: the installed SDK is not the 1.9 this binding was written for.
    """
    checked = JwtTokenValidator if validator is None else validator
    if not isinstance(getattr(checked, _KEYS_ATTRIBUTE, None), _JwkClientManager):
        raise TeamsConfigError(
            f"the installed Microsoft 365 Agents SDK's JwtTokenValidator has no {_KEYS_ATTRIBUTE}: "
            "this bot supports microsoft-agents 1.9 only (HAMPSHIRE_TEAMS_SDK=botbuilder avoids it)"
        )


def _replace_signing_keys(validator: JwtTokenValidator, options: TeamsOptions) -> None:
    """Have `validator` fetch signing keys through `_SigningKeys` (refusing an SDK without the seam)."""
    check_sdk(validator)
    setattr(validator, _KEYS_ATTRIBUTE, _SigningKeys(options))


def _issued_by_bot_framework(token: str) -> bool:
    """Only Bot Framework's channel tokens are validated at all: an Emulator or skill token, or
    one that cannot be read, is refused before any signing key is looked for."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    return isinstance(claims, dict) and claims.get("iss") == BOT_FRAMEWORK_ISSUER


class _KeptConnector(TeamsConnectorClient):
    """A connector client kept for the next turn: the SDK's close after each turn leaves it open."""

    async def close(self) -> None:
        """Kept open: `discard` closes it when the server stops."""

    async def discard(self) -> None:
        await super().close()


class _KeptUserTokens(UserTokenClient):
    """The user-token client the SDK insists on, made once: this bot never asks for user tokens."""

    async def close(self) -> None:
        """Kept open: `discard` closes it when the server stops."""

    async def discard(self) -> None:
        await super().close()


class _Clients:
    """Connector clients for a turn: a token from Entra ID (MSAL), a fixed one (tests), or none
    (local mode); never a user-token client that asks anything of the token service.

    While a server runs (`keep`), clients are kept per service URL, as botbuilder's connector
    clients are: the SDK would otherwise open two HTTP sessions and a new connection every turn.
    """

    def __init__(self, settings: Settings, mode: Mode, options: TeamsOptions) -> None:
        self._mode = mode
        self._fixed = options.outbound_token
        # Never used (no sign-in cards); named so the SDK does not warn of a missing app id locally.
        self._app_id = settings.microsoft_app_id or "local"
        self._msal: MsalAuth | None = None
        if mode == "authenticated" and not options.outbound_token:
            self._msal = MsalAuth(
                AgentAuthConfiguration(
                    auth_type=AuthTypes.client_secret,
                    client_id=settings.microsoft_app_id,
                    tenant_id=settings.microsoft_app_tenant_id,
                    client_secret=revealed(settings.microsoft_app_password),
                )
            )
        self.keep = False
        self._connectors: OrderedDict[str, _KeptConnector] = OrderedDict()
        self._user_tokens: _KeptUserTokens | None = None

    async def _token(self) -> str:
        if self._mode == "local":
            return ""
        if self._fixed:
            return self._fixed
        assert self._msal is not None
        return await self._msal.get_access_token(_BOT_FRAMEWORK_SCOPE, [f"{_BOT_FRAMEWORK_SCOPE}/.default"])

    async def create_connector_client(
        self,
        context: TurnContext | None,
        claims_identity: ClaimsIdentity,
        service_url: str,
        audience: str,
        scopes: list[str] | None = None,
        use_anonymous: bool = False,
    ) -> ConnectorClientBase:
        token = await self._token()
        if not self.keep:
            return TeamsConnectorClient(endpoint=service_url, token=token)
        client = self._connectors.get(service_url)
        if client is None or client.client.closed:
            client = self._connectors[service_url] = _KeptConnector(endpoint=service_url, token=token)
            while len(self._connectors) > _MAX_CONNECTOR_CLIENTS:
                _, oldest = self._connectors.popitem(last=False)
                await oldest.discard()
        else:
            self._connectors.move_to_end(service_url)
            if token:  # Entra ID renews the token; the kept session sends the current one
                client.client.headers["Authorization"] = f"Bearer {token}"
        return client

    async def create_user_token_client(
        self, context: TurnContext, claims_identity: ClaimsIdentity, use_anonymous: bool = False
    ) -> UserTokenClient:
        if not self.keep:
            return UserTokenClient(
                app_id=self._app_id, endpoint=AuthenticationConstants.AGENTS_SDK_OAUTH_URL, token=""
            )
        if self._user_tokens is None:
            self._user_tokens = _KeptUserTokens(
                app_id=self._app_id, endpoint=AuthenticationConstants.AGENTS_SDK_OAUTH_URL, token=""
            )
        return self._user_tokens

    async def discard(self) -> None:
        """Close every kept client and keep no more."""
        self.keep = False
        while self._connectors:
            await self._connectors.popitem()[1].discard()
        if self._user_tokens is not None:
            await self._user_tokens.discard()
            self._user_tokens = None


# --- the binding ---------------------------------------------------------------------------------


class _Turn(CardTurn):
    """The shared handler's way back to Teams through the Agents SDK's TurnContext."""

    _context: TurnContext
    sdk = SdkCalls(microsoft_agents.activity, InvokeResponse, _attempt, bot_field="agent", missing_id="")

    async def member(self, user_id: str) -> MemberRecord:
        client = self._context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
        if not isinstance(client, TeamsConnectorClient):
            raise RuntimeError("no Teams connector client for this turn")
        account = await client.get_conversation_member(self._context.activity.conversation.id, user_id)
        return MemberRecord(account.email, account.user_principal_name, account.name)


class AgentsBinding(SdkBinding):
    """Teams through the Microsoft 365 Agents SDK: token validation, turns, proactive posts."""

    turn = _Turn

    def __init__(self, settings: Settings, mode: Mode, options: TeamsOptions, clock: Clock) -> None:
        super().__init__(settings, mode, options, clock)
        self.clients = _Clients(settings, mode, options)
        self.adapter = CloudAdapter(channel_service_client_factory=self.clients)
        # The SDK's default posts the exception's text into the chat: errors go to the caller instead.
        self.adapter.on_turn_error = None
        self.validator = JwtTokenValidator(
            AgentAuthConfiguration(
                auth_type=AuthTypes.client_secret,
                client_id=settings.microsoft_app_id,
                tenant_id=settings.microsoft_app_tenant_id,
                issuers=[BOT_FRAMEWORK_ISSUER],
                validate_issuer=True,
            )
        )
        _replace_signing_keys(self.validator, options)

    def read(self, body: Mapping[str, Any]) -> Activity | None:
        """The SDK's activity for a request body, or None when it does not validate."""
        try:
            return Activity.model_validate(body)
        except Exception:
            return None

    async def authenticate(self, activity: Activity, header: str) -> Verdict | None:
        """The SDK's verdict on the token (None: refused); local mode accepts no token at all."""
        if self.mode == "local":
            return Verdict({}, ClaimsIdentity({}, "Anonymous"))
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or not _issued_by_bot_framework(token):
            return None
        try:
            identity = await self.validator.validate_token(token)
        except Exception as error:  # PyJWTError, ValueError, a key that could not be fetched in time
            log.info(messages.teams_token_rejected(activity.id, error))
            return None
        # Without the token the SDK keeps on it (`security_token`, read only by user sign-in, which
        # this bot never offers): the endpoint remembers verdicts (bot.channels.teams.accepted).
        claims = dict(identity.claims)
        return Verdict(claims, ClaimsIdentity(claims, identity.authentication_type))

    async def continue_conversation(self, reference: StoredReference, logic: TurnLogic) -> None:
        """The SDK's turn in a stored conversation, from its continuation activity."""
        continuation = self.turn.sdk.reference(reference).get_continuation_activity()
        if reference.locale:  # else the message goes out with a null locale
            continuation.locale = reference.locale
        await self.adapter.continue_conversation(self.app_id, continuation, logic)

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """Keep connector clients while the server runs, and close them when it stops.

        Signing keys need nothing here: the validator fetches them when needed, in its own threads.
        """
        self.clients.keep = True
        yield
        await self.clients.discard()
