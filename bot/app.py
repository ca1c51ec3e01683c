"""The aiohttp application `hampshire serve` runs: one port for Slack, Teams and health checks.

A channel's SDK is imported only when that channel is on, so a server with Slack off never loads
bolt and one with Teams off never loads the Bot Framework. An endpoint whose channel is off still
exists: it answers 503 with the reason, which a person setting up the app can read, where a 404
would suggest a wrong URL.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from bot import messages
from bot.channels.configured import slack_off_reason, teams_off_reason
from bot.conversation import RuntimePort
from bot.health import add_health
from bot.runtime import Runtime

__all__ = [
    "LISTEN_BACKLOG",
    "RUNTIME",
    "SLACK_PATH",
    "TEAMS_PATH",
    "create_app",
    "freeze_startup_heap",
    "new_event_loop",
]

log = logging.getLogger(__name__)

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)
SLACK_PATH = "/slack/events"
TEAMS_PATH = "/api/messages"
#: Connections the kernel holds for the server while its loop is busy, before it accepts them.
#: Python's and aiohttp's 128 were too few: 1,000 first messages in a second, each on a new
#: connection, had about a third reset while the loop ran the turns (`bench/load.py --burst 1`).
#: The kernel caps it at `net.core.somaxconn` (4,096 on current Linux).
LISTEN_BACKLOG = 2048


def _refuse(reason: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler for the endpoint of a channel that is off: 503 and why, for every request."""

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"error": reason}, status=503)

    return refuse


def _add_slack(app: web.Application, port: RuntimePort, runtime: Runtime) -> None:
    off = slack_off_reason(runtime.settings)
    if off is not None:
        log.info(messages.slack_off(off))
        app.router.add_post(SLACK_PATH, _refuse(f"Slack is off on this server: {off}"))
        return
    from bot.channels.slack.adapter import add_slack_routes

    add_slack_routes(app, port, runtime.settings, clock=runtime.clock)
    log.info(messages.slack_on(runtime.settings.slack_team_id or ""))


def _add_teams(app: web.Application, port: RuntimePort, runtime: Runtime) -> None:
    off = teams_off_reason(runtime.settings)
    if off is not None:
        log.info(messages.teams_off())
        app.router.add_post(TEAMS_PATH, _refuse(f"Microsoft Teams is off on this server: {off}"))
        return
    # The one place the Teams SDK's adapter module is imported for serving.
    from bot.channels.teams.endpoint import add_teams_routes

    add_teams_routes(app, port, runtime.settings, clock=runtime.clock)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The event loop a server runs on: uvloop's, asyncio's where uvloop is not installed.

    uvloop is a dependency everywhere but Windows, which it does not support. Under the full load
    of `bench/load.py` (two alternating runs each, two instances on PostgreSQL sharing one CPU) it
    took the servers' CPU a message from 8.8 and 9.0 ms to 7.8 twice, and a turn's p99 from 624
    and 475 ms to 182 and 146 ms: the loop's own work (callbacks, sockets, the threads' results
    handed back) runs in C.
    """
    try:
        import uvloop
    except ImportError:  # Windows
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


#: The collector's thresholds while serving (`gc.set_threshold`): Python's are (700, 10, 10).
COLLECTOR_THRESHOLDS = (10_000, 10, 10)


async def freeze_startup_heap(app: web.Application) -> None:
    """Set what start-up built (modules, the pack, the SDKs) aside from the garbage collector, and
    collect the young generation less often (`COLLECTOR_THRESHOLDS`).

    A full collection walks every tracked object: with the start-up heap in it (about 250,000
    objects) each took over 100 ms, every few seconds under load, and every request in flight
    waited for it. Frozen, the objects stay alive (they would anyway) and are not walked again.

    At Python's default threshold (a young collection every 700 objects) the objects of the
    requests in flight outlived two young collections and were promoted: under the full load the
    old generation filled with them and a full collection ran every few seconds, each 200-300 ms
    on a slow machine, with every request waiting. Ten thousand objects a young collection lets
    a request's objects die young; the cyclic garbage (the SDKs' request objects) waits a little
    longer for its collection, ten thousand objects at most.

    `serve` adds it to its application's start-up (not `create_app`: a process that builds many
    applications, a test run, would freeze each one's leftovers for good).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def create_app(runtime: Runtime, *, schedule: bool = False) -> web.Application:
    """The application, with each channel's routes registered explicitly.

    Args:
        schedule: run the plan's sweep and delivery on this event loop (what `serve` does).
    """
    app = web.Application(client_max_size=1024 * 1024)
    app[RUNTIME] = runtime
    add_health(app, runtime.engine)
    if schedule:
        app.cleanup_ctx.append(_scheduler)
    # The channels reach the bot only through its port: one for both, sharing the router.
    port = RuntimePort(runtime)
    _add_teams(app, port, runtime)
    _add_slack(app, port, runtime)
    return app


async def _scheduler(app: web.Application) -> AsyncIterator[None]:
    from bot.channels.configured import push_channels
    from bot.reminders.scheduler import PlanKeeper, start_scheduler

    runtime = app[RUNTIME]
    scheduler = start_scheduler(
        PlanKeeper(runtime, push_channels(runtime.settings, pack=runtime.pack, clock=runtime.clock))
    )
    yield
    scheduler.shutdown(wait=False)
