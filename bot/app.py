"""The aiohttp application `hampshire serve` runs: one port for Slack, Teams and health checks."""

from __future__ import annotations

from aiohttp import web

from bot.runtime import Runtime
from bot.slack import add_slack_routes

__all__ = ["RUNTIME", "create_app"]

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)


async def _healthz(request: web.Request) -> web.Response:
    """Liveness and database reachability, without revealing anything else."""
    runtime = request.app[RUNTIME]
    with runtime.engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    return web.json_response({"status": "ok"})


def create_app(runtime: Runtime) -> web.Application:
    """The application, with each channel's routes registered explicitly."""
    app = web.Application(client_max_size=1024 * 1024)
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", _healthz)
    add_slack_routes(app, runtime)
    return app
