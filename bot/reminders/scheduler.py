"""Keeping the plan: the sweep and delivery, on a schedule (`serve`) or once (`nudge run-once`).

APScheduler is only the tick: one interval job with a fixed id (`replace_existing`, so a restart
never duplicates it), `coalesce` and `max_instances=1` (a slow tick is never run twice at once),
and a generous misfire grace (a tick missed while the process was busy still runs). What is due
is decided by the database, so several instances on PostgreSQL can all tick safely. A second
job, daily, deletes what the pack's retention periods say has expired (`bot.retention`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot import messages
from bot.channels.outbound import Channel
from bot.reminders.delivery import Deliverer, DeliveryReport
from bot.reminders.sweep import SweepReport, run_sweep
from bot.retention import scheduled_prune
from bot.runtime import Runtime
from bot.visits.sweep import VisitSweepReport, sweep_visits

__all__ = ["JOB_ID", "RETENTION_JOB_ID", "PlanKeeper", "Tick", "start_scheduler"]

log = logging.getLogger(__name__)

JOB_ID = "hampshire-plan-sweep"
RETENTION_JOB_ID = "hampshire-retention"
#: Seconds between ticks; the 1-hour FIM point is the tightest clock, so a minute is plenty.
TICK_SECONDS = 60
#: A tick this late (seconds) still runs rather than being dropped with a warning.
MISFIRE_GRACE = 3600


@dataclass(frozen=True)
class Tick:
    """What one tick did."""

    sweep: SweepReport
    delivery: DeliveryReport
    visits: VisitSweepReport


class PlanKeeper:
    """One tick: sweep what is due into the outbox, then deliver the outbox."""

    def __init__(
        self, runtime: Runtime, channels: Mapping[str, Channel], *, worker: str | None = None
    ) -> None:
        self.runtime = runtime
        self.deliverer = Deliverer(
            pack=runtime.pack,
            sessions=runtime.sessions,
            clock=runtime.clock,
            channels=channels,
            worker=worker or f"{socket.gethostname()}:{os.getpid()}",
        )

    async def tick(self) -> Tick:
        """Sweep then deliver."""
        runtime = self.runtime
        sweep = await asyncio.to_thread(
            run_sweep, runtime.pack, sessions=runtime.sessions, now=runtime.clock()
        )
        await asyncio.to_thread(self.queue_summary)
        # The OPCC visit requests' pending steps are chased the same way (bot.visits.sweep).
        visits = await asyncio.to_thread(
            sweep_visits, runtime.pack, sessions=runtime.sessions, now=runtime.clock()
        )
        delivery = await self.deliverer.run_once()
        if sweep.points or delivery.sent or delivery.failed:
            log.info(messages.tick_done(sweep, delivery))
        return Tick(sweep, delivery, visits)

    def queue_summary(self) -> None:
        """Queue the SPOC's weekly summary once it is due (the pack's weekday and time)."""
        from bot.reports.chat import queue_weekly_summary

        runtime = self.runtime
        with runtime.sessions.begin() as session:
            queue_weekly_summary(runtime.pack, session=session, now=runtime.clock())


async def _scheduled_tick(keeper: PlanKeeper) -> None:
    """A tick as the scheduler runs it: a failure is logged (where, never what) and the next tick
    tries again. Left to APScheduler, the failure would be logged with its message, which can quote
    the data being processed."""
    try:
        await keeper.tick()
    except Exception as error:
        log.error(messages.tick_failed(error))


def start_scheduler(keeper: PlanKeeper, *, seconds: int = TICK_SECONDS) -> AsyncIOScheduler:
    """Start the tick on the running event loop (the one aiohttp serves on)."""
    scheduler = AsyncIOScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
    )
    scheduler.add_job(
        _scheduled_tick,
        IntervalTrigger(seconds=seconds, timezone=UTC),
        args=[keeper],
        id=JOB_ID,
        name="sweep the plan and deliver nudges",
        replace_existing=True,
        next_run_time=keeper.runtime.clock(),
    )
    # Retention runs beside the plan, daily from start-up (`bot.retention`).
    scheduler.add_job(
        scheduled_prune,
        IntervalTrigger(days=1, timezone=UTC),
        args=[keeper.runtime],
        id=RETENTION_JOB_ID,
        name="delete what the pack's retention periods say has expired",
        replace_existing=True,
        next_run_time=keeper.runtime.clock(),
    )
    scheduler.start()
    return scheduler
