"""Two delivery workers on PostgreSQL share the workspace's rate budget: together, within it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.slack import adapter
from bot.channels.slack.adapter import make_slack_channel
from bot.reminders.budget import SharedRateLimiter, rate_limiter_for
from bot.reminders.delivery import Deliverer
from bot.reminders.ratelimit import Limiter, RateLimiter
from store.ratebudget import Window
from tests.conftest import START, FakeClock, make_runtime
from tests.slack_mock import BOT_TOKEN, MockSlack
from tests.store.test_outbox import backlog

#: A small workspace budget, so that the test sends a few windows' worth.
BUDGET = 5
PEOPLE = 30


class SharedTime:
    """The injected clock of both workers and the mock platform: it moves only when a worker
    sleeps, and only once every send the limiters let through has reached the mock, so that the
    mock counts each send in the window the limiters counted it in."""

    def __init__(self, mock: MockSlack) -> None:
        self.now = 1_900_000_000.0
        self.mock = mock
        self.lock = threading.Lock()
        self.allowed = 0

    def time(self) -> float:
        return self.now

    def arrived(self) -> bool:
        return len(self.mock.calls_to("chat.postMessage")) >= self.allowed

    async def sleep(self, seconds: float) -> None:
        wake = self.now + seconds
        while True:
            with self.lock:
                if self.arrived():
                    self.now = max(self.now, wake)
                    return
            await self.mock.until(self.arrived)


class Counted(SharedRateLimiter):
    """The shared limiter, telling the shared time how many sends it let through."""

    def __init__(self, sessions: sessionmaker[Session], time: SharedTime) -> None:
        super().__init__(sessions, clock=time.time, sleep=time.sleep)
        self.shared = time

    def _take(self, windows: Sequence[Window]) -> float:
        with self.shared.lock:
            wait = super()._take(windows)
            self.shared.allowed += wait <= 0
            return wait


def most_in_a_minute(times: list[float]) -> int:
    """The most sends the mock saw in any 60 seconds."""
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + 60) for i, start in enumerate(times))


@pytest.mark.postgres
def test_two_workers_together_stay_within_the_workspace_budget(
    postgres_engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(adapter, "WORKSPACE_MESSAGES_PER_MINUTE", BUDGET)
    runtime = make_runtime(postgres_engine, clock)
    backlog(runtime.sessions, unreachable=0, reachable=PEOPLE, urgent=0)
    clock.now = START.replace(day=START.day + 1)

    async def main() -> list[int]:
        mock = MockSlack()
        url = await mock.start()
        time = SharedTime(mock)
        mock.clock = time.time
        settings = runtime.settings.replace(slack_bot_token=BOT_TOKEN, slack_api_url=url)
        workers = []
        for name in ("instance-1", "instance-2"):
            channel = make_slack_channel(settings, runtime.pack)
            assert channel is not None
            workers.append(
                Deliverer(
                    pack=runtime.pack,
                    sessions=runtime.sessions,
                    clock=runtime.clock,
                    channels={"slack": channel},
                    worker=name,
                    limiter=Counted(runtime.sessions, time),
                    batch=BUDGET,
                )
            )
        try:
            reports = await asyncio.gather(*(worker.run_once() for worker in workers))
        finally:
            await mock.stop()
        times = [call.at for call in mock.calls_to("chat.postMessage") if call.at is not None]
        return [report.sent for report in reports] + [len(times), most_in_a_minute(times)]

    first, second, posted, busiest = asyncio.run(main())
    assert first > 0 and second > 0  # both instances sent
    assert first + second == posted == PEOPLE
    assert busiest == BUDGET


@pytest.mark.postgres
def test_postgresql_shares_the_budget_and_sqlite_keeps_it_in_memory(
    postgres_engine: Engine, sqlite_engine: Engine
) -> None:
    shared: Limiter = rate_limiter_for(sessionmaker(postgres_engine))
    alone: Limiter = rate_limiter_for(sessionmaker(sqlite_engine))
    assert isinstance(shared, SharedRateLimiter) and isinstance(alone, RateLimiter)
