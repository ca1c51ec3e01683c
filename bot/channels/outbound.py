"""The channel seam: sending messages to a person later (nudges, notices), on any platform.

Each platform adapter provides a `Channel` whose `send(address, replies)` posts the replies and
reports a `Delivery`. Retrying is shared: `send_with_retry` honours Retry-After on 429, retries
412/5xx and connection failures with bounded, jittered backoff, and always ends in a definite
`Delivery` (sent, failed, or uncertain when the platform may have accepted it), never silence.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from bot import messages
from bot.reminders.ratelimit import Limit
from dialogs.types import Reply

__all__ = [
    "Address",
    "Attempt",
    "Channel",
    "Delivery",
    "Found",
    "Pace",
    "RetryPolicy",
    "send_with_retry",
]

log = logging.getLogger(__name__)

#: Statuses worth trying again: throttled, precondition raced, server and gateway errors.
RETRYABLE = frozenset({412, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Address:
    """Where to reach a person on one channel.

    Args:
        channel: "slack", "msteams" or "console".
        tenant: the Slack workspace or Teams tenant.
        user_id: the person's id on that channel.
        data: the channel's own wire data (e.g. a Teams conversation reference, camelCase JSON).
    """

    channel: str
    tenant: str
    user_id: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """The outcome of a send.

    `uncertain` means the request may have reached the platform (a timeout after sending): the
    caller reconciles rather than sending blindly again.
    """

    status: Literal["sent", "failed", "uncertain"]
    message_id: str | None = None
    error: str | None = None
    attempts: int = 1


@dataclass(frozen=True)
class Attempt:
    """What one try at the platform's API returned, as the retry loop needs it.

    Args:
        status: the HTTP status (0 when the connection failed before any response).
        message_id: the platform's id of the posted message, on success.
        retry_after: seconds the platform asked us to wait (Retry-After), if it said.
        sent: whether the request may have been received (a timeout after writing the body).
        error: a short code for logs (never message content).
    """

    status: int
    message_id: str | None = None
    retry_after: float | None = None
    sent: bool = False
    error: str | None = None


Found = Literal["found", "absent", "unknown"]
#: Awaited immediately before each request to the platform (each part, each retry): rate limiting
#: there, rather than before `send`, keeps the platform's count and ours in step.
Pace = Callable[[], Awaitable[object]]


class Channel(Protocol):
    """A platform that can message a person proactively."""

    name: str
    #: Whether `lookup` can find a message sent (else it always answers "unknown").
    reads_back: bool

    async def send(
        self, address: Address, replies: Sequence[Reply], *, key: str | None = None, pace: Pace | None = None
    ) -> Delivery:
        """Post `replies` to the person at `address`, tagged with `key` where the platform allows.

        `pace`, when given, is awaited before every request the send makes.
        """
        ...

    async def lookup(self, address: Address, key: str, *, since: datetime) -> tuple[Found, str | None]:
        """Whether a message tagged `key` reached `address` since `since`, and its id.

        "unknown" when the platform cannot tell: the caller then does not send again blindly.
        """
        ...

    def limits(self, address: Address) -> Sequence[Limit]:
        """The rate limits a send to `address` falls under."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying: attempts, and the backoff when the platform gives no Retry-After."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0


async def send_with_retry(
    attempt: Callable[[], Awaitable[Attempt]],
    *,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    jitter: Callable[[], float] = random.random,
) -> Delivery:
    """Call `attempt` until it succeeds or is not worth retrying; report what happened.

    A Retry-After longer than the policy allows ends the loop as `failed` (the outbox tries again
    later) rather than holding a worker for minutes.
    """
    maybe_sent = False
    last = Attempt(status=0, error="not attempted")
    for number in range(1, policy.attempts + 1):
        last = await attempt()
        if 200 <= last.status < 300:
            return Delivery("sent", message_id=last.message_id, attempts=number)
        maybe_sent = maybe_sent or last.sent
        # A request that may have arrived is not sent again blind: the outbox looks it up first.
        if last.sent or (last.status not in RETRYABLE and last.status != 0):
            break
        if number == policy.attempts:
            break
        if last.retry_after is not None:
            if last.retry_after > policy.max_retry_after:
                break
            delay = last.retry_after
        else:
            delay = min(policy.max_delay, policy.base_delay * 2 ** (number - 1)) * (0.5 + jitter())
        log.info(messages.send_retrying(number, last.status or last.error, delay))
        await sleep(delay)
    status: Literal["failed", "uncertain"] = "uncertain" if maybe_sent else "failed"
    error = last.error or f"http {last.status}"
    log.warning(messages.send_gave_up(number, error, status))
    return Delivery(status, error=error, attempts=number)
