"""The aiohttp application: health check."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.runtime import Runtime


def test_healthz(sqlite_runtime: Runtime) -> None:
    async def check() -> tuple[int, object]:
        async with TestClient(TestServer(create_app(sqlite_runtime))) as client:
            response = await client.get("/healthz")
            return response.status, await response.json()

    assert asyncio.run(check()) == (200, {"status": "ok"})
