"""`GET /healthz`: is the server alive and is its database answering, without stalling either.

The database is asked `SELECT 1` in a thread of the check's own, never on the event loop: a
database that stops answering (a black-holed network, a server that accepts and never replies)
would otherwise hold the loop, and every Slack acknowledgement and Teams turn with it, for as long
as the driver waits, which for PostgreSQL has no bound. The check waits `timeout` seconds and
answers 503; one check at a time is asked, and probes arriving while it is still out share it, so a
load balancer probing a dead database never piles up threads or connections. Nothing else is
revealed, and nothing of a failure is logged here: the database's own errors reach the log where
work fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from aiohttp import web
from sqlalchemy import Engine

__all__ = ["HEALTH", "DatabaseHealth", "add_health", "healthz"]


class DatabaseHealth:
    """Whether the database answers `SELECT 1` within `timeout` seconds, asked off the event loop.

    Each check runs in a daemon thread of its own: one stuck on a silent database (the driver may
    wait for ever) never keeps the process from stopping, as a pool's worker thread would.
    """

    def __init__(self, engine: Engine, *, timeout: float = 5.0) -> None:
        self.engine = engine
        self.timeout = timeout
        self._asking: asyncio.Future[None] | None = None

    def _ask(self) -> None:
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def _start(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        asked: asyncio.Future[None] = loop.create_future()

        def settle(error: BaseException | None) -> None:
            if asked.done():
                return
            if error is None:
                asked.set_result(None)
            else:
                asked.set_exception(error)

        def ask() -> None:
            error: BaseException | None = None
            try:
                self._ask()
            except BaseException as failed:  # handed to the waiting request, as its answer
                error = failed
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
                loop.call_soon_threadsafe(settle, error)

        threading.Thread(target=ask, name="healthz", daemon=True).start()
        return asked

    async def answering(self) -> bool:
        """True when the database answered; False when it failed or is still silent after `timeout`."""
        if self._asking is None or self._asking.done():
            self._asking = self._start()
        try:
            await asyncio.wait_for(asyncio.shield(self._asking), self.timeout)
        except Exception:  # any failure is "not answering"; nothing of it is shown
            return False
        return True


HEALTH: web.AppKey[DatabaseHealth] = web.AppKey("health", DatabaseHealth)


async def healthz(request: web.Request) -> web.Response:
    """200 `{"status": "ok"}` when the database answers, else 503 `{"status": "unavailable"}`."""
    if await request.app[HEALTH].answering():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "unavailable"}, status=503)


def add_health(app: web.Application, engine: Engine, *, timeout: float = 5.0) -> None:
    """Serve `GET /healthz` on `app`, checking `engine`."""
    app[HEALTH] = DatabaseHealth(engine, timeout=timeout)
    app.router.add_get("/healthz", healthz)
