"""The scheduler: one job, fixed id, never overlapping, catching up after a delay."""

from __future__ import annotations

import asyncio

import pytest

from bot.reminders.scheduler import (
    JOB_ID,
    MISFIRE_GRACE,
    RETENTION_JOB_ID,
    PlanKeeper,
    _scheduled_tick,
    start_scheduler,
)
from bot.runtime import Runtime
from tests.bot.helpers import report
from tests.channel import FakePush
from tests.conftest import START, FakeClock


def test_the_job_is_configured_not_to_overlap_or_drop_ticks(
    sqlite_runtime: Runtime, clock: FakeClock
) -> None:
    async def check() -> None:
        keeper = PlanKeeper(sqlite_runtime, {})
        scheduler = start_scheduler(keeper)
        try:
            start_scheduler_again = scheduler.add_job(
                keeper.tick, "interval", seconds=60, id=JOB_ID, replace_existing=True
            )
            assert start_scheduler_again.id == JOB_ID
            job = scheduler.get_job(JOB_ID)
            assert {j.id for j in scheduler.get_jobs()} == {JOB_ID, RETENTION_JOB_ID}
            assert (job.id, job.coalesce, job.max_instances, job.misfire_grace_time) == (
                JOB_ID,
                True,
                1,
                MISFIRE_GRACE,
            )
        finally:
            scheduler.shutdown(wait=False)

    asyncio.run(check())


def test_a_tick_sweeps_and_delivers(sqlite_runtime: Runtime, clock: FakeClock) -> None:
    report(sqlite_runtime, consent="no")
    clock.now = START.replace(day=24, hour=10)
    tick = asyncio.run(PlanKeeper(sqlite_runtime, {"slack": FakePush()}).tick())
    assert tick.sweep.queued > 0 and tick.delivery.held == tick.sweep.queued


def test_a_failed_tick_is_logged_by_where_never_by_what(
    sqlite_runtime: Runtime, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    keeper = PlanKeeper(sqlite_runtime, {})

    async def broken() -> None:
        raise ValueError("PC Zebra Crossing's injuries")  # an error quoting what it was processing

    monkeypatch.setattr(keeper, "tick", broken)
    asyncio.run(_scheduled_tick(keeper))
    assert "plan tick failed with ValueError" in caplog.text
    assert "Zebra" not in caplog.text
