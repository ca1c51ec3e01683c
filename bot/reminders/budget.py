"""The rate budget instances share: limits counted in the database, so that several instances on
PostgreSQL together stay within a workspace's or tenant's budget instead of each spending all of it.

Kept apart from `bot.reminders.ratelimit`, which the channels import for `Limit`: a channel module
must not load what holds database sessions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from bot.reminders.ratelimit import Limit, Limiter, RateLimiter
from store.ratebudget import Window, take_budget

__all__ = ["SharedRateLimiter", "rate_limiter_for"]


class SharedRateLimiter:
    """A `RateLimiter` whose windows live in the database, shared by every instance using it.

    `clock` is wall-clock time (seconds since 1970), the one time base instances on different
    machines share; each check and count is one short transaction in a worker thread.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        margin: float = 1.05,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.sleep = sleep
        self.margin = margin

    def _take(self, windows: Sequence[Window]) -> float:
        with self.sessions.begin() as session:
            return take_budget(session=session, windows=windows, clock=self.clock)

    async def acquire(self, limits: Sequence[Limit]) -> float:
        """Wait for room under all `limits`, counted across instances; returns the seconds waited."""
        windows = [
            Window(f"{limit.key}/{limit.per:g}", limit.count, limit.per * self.margin) for limit in limits
        ]
        waited = 0.0
        while (wait := await asyncio.to_thread(self._take, windows)) > 0:
            await self.sleep(wait)
            waited += wait
        return waited


def rate_limiter_for(
    sessions: sessionmaker[Session],
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Limiter:
    """The limiter delivery uses: shared through the database on PostgreSQL (several instances
    may run), in memory on SQLite (one instance only)."""
    bind = sessions.kw.get("bind")
    if bind is not None and bind.dialect.name == "postgresql":
        return SharedRateLimiter(sessions, clock=clock, sleep=sleep)
    return RateLimiter(clock=time.monotonic if clock is time.time else clock, sleep=sleep)
