"""Sliding-window rate limits, keyed by conversation, workspace or tenant.

Platforms publish several windows per key (Teams: 7 per second, 8 per 2 seconds, 60 per 30
seconds, 1,800 an hour per conversation, and 50 per second per tenant). A send waits until every
window it falls under has room, so we stay under the limits instead of learning them from 429s.

The budget is the workspace's or tenant's, not one instance's: instances sharing PostgreSQL count
their sends in the database (`bot.reminders.budget`), so two of them together stay within it. On
SQLite only one instance may run, and it counts in memory (`RateLimiter`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Limit", "Limiter", "RateLimiter"]


@dataclass(frozen=True)
class Limit:
    """At most `count` sends per `per` seconds for `key`."""

    key: str
    count: int
    per: float


class Limiter(Protocol):
    """Something a send waits on until it fits its rate limits."""

    async def acquire(self, limits: Sequence[Limit]) -> float:
        """Wait for room under all `limits`; returns the seconds waited."""
        ...


class RateLimiter:
    """Waits until a send fits every limit it is under, then records it.

    Each window is counted a little longer than published (`margin`): a request leaves here a few
    milliseconds before the platform counts it, and that jitter must not tip a window over.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        margin: float = 1.05,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.margin = margin
        self.windows: dict[tuple[str, float], deque[float]] = {}

    def _wait(self, limit: Limit, now: float) -> float:
        window = self.windows.setdefault((limit.key, limit.per), deque())
        span = limit.per * self.margin
        while window and window[0] <= now - span:
            window.popleft()
        return 0.0 if len(window) < limit.count else window[0] + span - now

    async def acquire(self, limits: Sequence[Limit]) -> float:
        """Wait for room under all `limits`; returns the seconds waited."""
        waited = 0.0
        while True:
            now = self.clock()
            wait = max((self._wait(limit, now) for limit in limits), default=0.0)
            if wait <= 0:
                for limit in limits:  # no await between checking and recording: no race
                    self.windows[(limit.key, limit.per)].append(now)
                return waited
            await self.sleep(wait)
            waited += wait
