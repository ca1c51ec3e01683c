"""Rate limits: several windows per key, waited out rather than exceeded."""

from __future__ import annotations

import asyncio

from bot.reminders.ratelimit import Limit, RateLimiter


class Time:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_one_per_second_per_channel() -> None:
    time = Time()
    limiter = RateLimiter(clock=time, sleep=time.sleep, margin=1.0)
    waits = [asyncio.run(limiter.acquire([Limit("slack:D1", 1, 1.0)])) for _ in range(3)]
    assert waits == [0.0, 1.0, 1.0] and time.now == 2.0
    assert asyncio.run(limiter.acquire([Limit("slack:D2", 1, 1.0)])) == 0.0  # another channel is free


def test_every_window_is_respected() -> None:
    time = Time()
    limiter = RateLimiter(clock=time, sleep=time.sleep, margin=1.0)
    teams = [Limit("c", 7, 1.0), Limit("c", 8, 2.0), Limit("c", 60, 30.0)]
    stamps = []
    for _ in range(70):
        asyncio.run(limiter.acquire(teams))
        stamps.append(time.now)
    for start in stamps:
        assert sum(start <= s < start + 1.0 for s in stamps) <= 7
        assert sum(start <= s < start + 2.0 for s in stamps) <= 8
        assert sum(start <= s < start + 30.0 for s in stamps) <= 60
    assert stamps[60] >= 30.0


def test_a_margin_keeps_jitter_from_tipping_a_window_over() -> None:
    time = Time()
    limiter = RateLimiter(clock=time, sleep=time.sleep, margin=1.1)
    for _ in range(3):
        asyncio.run(limiter.acquire([Limit("slack:D1", 1, 1.0)]))
    assert time.now == 2.2
