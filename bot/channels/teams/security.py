"""Who Teams is served to: the modes, and the service-URL, tenant and token-claim rules.

Shared by both SDK bindings (`bot.channels.teams.botbuilder`, `bot.channels.teams.agents`): each
validates a token with its own SDK, and everything decided from the activity and the validated
claims is decided here, the same way for both.

Modes, from the settings:

- **authenticated**: MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID are set.
  Every request's token is validated by the SDK; only that tenant is served.
- **local**: no app id but HAMPSHIRE_ALLOW_UNAUTHENTICATED=1, for a local Teams client (the Agents
  Playground). Nobody is authenticated, so only loopback service URLs are answered, `serve` binds
  to 127.0.0.1 and start-up warns.
- **off**: neither. `/api/messages` refuses every request without processing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from bot.settings import Settings

__all__ = [
    "BOT_FRAMEWORK_ISSUER",
    "BOT_FRAMEWORK_SERVICE_ORIGINS",
    "CHANNEL",
    "LOOPBACK_HOSTS",
    "Mode",
    "Rules",
    "TeamsConfigError",
    "channel_claims_allowed",
    "local_database_problem",
    "teams_mode",
]

CHANNEL = "msteams"
Mode = Literal["authenticated", "local", "off"]

#: Where Teams posts from in the public cloud; every region is a path under this origin.
BOT_FRAMEWORK_SERVICE_ORIGINS = frozenset({"https://smba.trafficmanager.net"})
#: Hosts that are this machine: the only ones local mode listens on or talks to.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: The only issuer of the tokens the Teams channel sends a bot (public cloud).
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"


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


def channel_claims_allowed(claims: Mapping[str, Any], *, app_id: str, service_url: str | None) -> bool:
    """Whether validated claims are a Teams channel token for this bot and this activity.

    Bot Framework's channel rules: issued by Bot Framework itself (not the Emulator, not another
    bot as a skill), for our app id, and naming the service URL the activity came from.
    """
    return (
        claims.get("iss") == BOT_FRAMEWORK_ISSUER
        and claims.get("aud") == app_id
        and bool(service_url)
        and claims.get("serviceurl") == service_url
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


@dataclass(frozen=True)
class Rules:
    """Which service URLs and tenants a mode accepts."""

    mode: Mode
    tenant: str | None
    service_origins: frozenset[str]

    @classmethod
    def of(cls, settings: Settings, mode: Mode, service_origins: frozenset[str]) -> Rules:
        """The rules for `mode`, the settings' tenant and the allowed service URL origins."""
        tenant = (settings.microsoft_app_tenant_id or "").strip().lower() or None
        return cls(mode, tenant, frozenset(o.lower().rstrip("/") for o in service_origins))

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


def local_database_problem(backend: str) -> str | None:
    """Why local mode (nobody authenticated) cannot serve a database of kind `backend`, or None.

    Local mode is for a Teams client on this machine: anyone who can reach the port is believed,
    so it may only ever see a SQLite database on this machine, never a shared server's data.
    """
    if backend == "sqlite":
        return None
    return (
        "HAMPSHIRE_ALLOW_UNAUTHENTICATED serves Teams without authentication, for a client on this "
        f"machine, so only with a local SQLite database (not {backend}); set MICROSOFT_APP_ID, "
        "MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID to serve Teams with authentication"
    )
