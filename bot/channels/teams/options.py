"""The Teams channel's tuning and test seams, and reading a connector's Retry-After."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from bot.channels.outbound import RetryPolicy
from bot.channels.teams.security import BOT_FRAMEWORK_SERVICE_ORIGINS

__all__ = ["TeamsOptions", "retry_after_seconds"]


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
        key_timeout: seconds one fetch of the signing keys may take.
        member_ttl: how long a member's email, looked up in Teams' roster, is remembered.
        sleep: how retries wait (tests record the delays instead).
    """

    openid_metadata_url: str | None = None
    service_origins: frozenset[str] = BOT_FRAMEWORK_SERVICE_ORIGINS
    outbound_token: str | None = field(default=None, repr=False)
    reply_policy: RetryPolicy = RetryPolicy(attempts=3, base_delay=0.5, max_delay=2.0, max_retry_after=4.0)
    send_policy: RetryPolicy = RetryPolicy()
    call_timeout: float = 10.0
    key_timeout: float = 10.0
    member_ttl: timedelta = timedelta(hours=1)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


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
