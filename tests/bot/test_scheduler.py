"""The scheduler: one job, fixed id, never overlapping, catching up after a delay."""

from __future__ import annotations

import asyncio

from bot.runtime import Runtime
from bot.scheduler import JOB_ID, MISFIRE_GRACE, PlanKeeper, start_scheduler
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
            [job] = scheduler.get_jobs()
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
    report(sqlite_runtime)
    clock.now = START.replace(day=24, hour=10)
    tick = asyncio.run(PlanKeeper(sqlite_runtime, {"slack": FakePush()}).tick())
    assert tick.sweep.queued > 0 and tick.delivery.held == tick.sweep.queued
