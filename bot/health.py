"""`GET /healthz`: is the server alive and is its database answering, without stalling either.

The database is asked `SELECT 1` in a thread of the check's own, never on the event loop: a
database that stops answering (a black-holed network, a server that accepts and never replies)
would otherwise hold the loop, and every Slack acknowledgement and Teams turn with it, for as long
as the driver waits, which for PostgreSQL has no bound. The check waits `timeout` seconds and
answers 503; one check at a time is asked, and probes arriving while it is still out share it, so a
load balancer probing a dead database never piles up threads or connections. Nothing else is
revealed.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web
from sqlalchemy import Engine

__all__ = ["HEALTH", "DatabaseHealth", "add_health", "healthz"]


class DatabaseHealth:
    """Whether the database answers `SELECT 1` within `timeout` seconds, asked off the event loop."""

    def __init__(self, engine: Engine, *, timeout: float = 5.0) -> None:
        self.engine = engine
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="healthz")
        self._asking: asyncio.Future[None] | None = None

    def _ask(self) -> None:
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    async def answering(self) -> bool:
        """True when the database answered; False when it failed or is still silent after `timeout`."""
        if self._asking is None or self._asking.done():
            self._asking = asyncio.get_running_loop().run_in_executor(self._executor, self._ask)
        try:
            await asyncio.wait_for(asyncio.shield(self._asking), self.timeout)
        except Exception:  # any failure is "not answering"; nothing of it is shown
            return False
        return True

    def close(self) -> None:
        """Let go of the thread (a check still waiting on a silent database is abandoned)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


HEALTH: web.AppKey[DatabaseHealth] = web.AppKey("health", DatabaseHealth)


async def healthz(request: web.Request) -> web.Response:
    """200 `{"status": "ok"}` when the database answers, else 503 `{"status": "unavailable"}`."""
    if await request.app[HEALTH].answering():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "unavailable"}, status=503)


def add_health(app: web.Application, engine: Engine, *, timeout: float = 5.0) -> None:
    """Serve `GET /healthz` on `app`, checking `engine`; its thread is let go at clean-up."""
    health = DatabaseHealth(engine, timeout=timeout)
    app[HEALTH] = health

    async def close(app: web.Application) -> None:
        health.close()

    app.router.add_get("/healthz", healthz)
    app.on_cleanup.append(close)
