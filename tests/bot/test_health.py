"""`GET /healthz` (bot/health.py): a silent database never stalls the server."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.health import add_health
from store.db import make_engine
from tests.black_hole import BlackHole


def test_a_database_that_never_answers_is_503_while_every_other_request_is_served() -> None:
    """Before, /healthz asked the database on the event loop: with PostgreSQL silent, the whole
    server (Slack's acknowledgements, Teams' turns) waited with it, without a bound."""
    silent = BlackHole()  # a database server that accepts and never answers
    # Only a failsafe: a stalled loop could not run the test's own timeouts.
    failsafe = threading.Timer(120, silent.close)
    failsafe.start()
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{silent.port}/test")

    async def ping(request: web.Request) -> web.Response:
        return web.json_response({"pong": True})

    async def scenario() -> list[tuple[int, object]]:
        probing = asyncio.Event()
        probes_in = 0

        @web.middleware
        async def count(request: web.Request, handler: Any) -> web.StreamResponse:
            nonlocal probes_in
            if request.path == "/healthz":
                probes_in += 1
                if probes_in == 2:
                    probing.set()
            response: web.StreamResponse = await handler(request)
            return response

        app = web.Application(middlewares=[count])
        # Far longer than the test: the probes end when the database goes away, not on a timer.
        add_health(app, engine, timeout=60.0)
        app.router.add_get("/ping", ping)
        answers: list[tuple[int, object]] = []
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:

            async def get(path: str) -> tuple[int, object]:
                async with client.get(path) as response:
                    return response.status, await response.json()

            # Two probes while the database is silent: they share one check, one connection.
            first = asyncio.ensure_future(get("/healthz"))
            second = asyncio.ensure_future(get("/healthz"))
            await probing.wait()
            assert await asyncio.to_thread(silent.connected.wait, 60)
            answers.append(await get("/ping"))  # served while the database is being waited on
            answers.append((int(first.done() or second.done()), None))
            silent.close()  # the database goes away: the check fails, both probes get 503
            answers.append(await first)
            answers.append(await second)
        return answers

    try:
        answers = asyncio.run(scenario())
    finally:
        failsafe.cancel()
        silent.close()
        engine.dispose()
    assert answers == [
        (200, {"pong": True}),
        (0, None),
        (503, {"status": "unavailable"}),
        (503, {"status": "unavailable"}),
    ]
    assert silent.accepted == 1


_ASK_A_SILENT_DATABASE_THEN_EXIT = """
import asyncio, sys
from bot.health import DatabaseHealth
from store.db import make_engine
print(asyncio.run(DatabaseHealth(make_engine(sys.argv[1]), timeout=0.5).answering()))
"""


def test_a_check_stuck_on_a_silent_database_never_keeps_the_process_from_stopping() -> None:
    """The check's thread is a daemon: a server stopping while the database is silent stops."""
    silent = BlackHole()
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                _ASK_A_SILENT_DATABASE_THEN_EXIT,
                f"postgresql+psycopg://postgres@127.0.0.1:{silent.port}/test",
            ],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
            timeout=120,  # only a failsafe: a process held by the thread would never end
            check=False,
        )
    finally:
        silent.close()
    assert (done.returncode, done.stdout.strip()) == (0, "False"), done.stderr
    assert silent.accepted == 1
