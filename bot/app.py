"""The aiohttp application `hampshire serve` runs: one port for Slack, Teams and health checks."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from bot.channels.slack.adapter import add_slack_routes
from bot.channels.teams.endpoint import add_teams_routes
from bot.conversation import RuntimePort
from bot.runtime import Runtime

__all__ = ["RUNTIME", "create_app"]

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)


async def _healthz(request: web.Request) -> web.Response:
    """Liveness and database reachability, without revealing anything else."""
    runtime = request.app[RUNTIME]
    with runtime.engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    return web.json_response({"status": "ok"})


def create_app(runtime: Runtime, *, schedule: bool = False) -> web.Application:
    """The application, with each channel's routes registered explicitly.

    Args:
        schedule: run the plan's sweep and delivery on this event loop (what `serve` does).
    """
    app = web.Application(client_max_size=1024 * 1024)
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", _healthz)
    if schedule:
        app.cleanup_ctx.append(_scheduler)
    # The channels reach the bot only through its port: one for both, sharing the router.
    port = RuntimePort(runtime)
    add_teams_routes(app, port, runtime.settings, clock=runtime.clock)
    add_slack_routes(app, port, runtime.settings, clock=runtime.clock)
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
