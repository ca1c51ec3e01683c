"""The aiohttp application: health check, which channels are on, and the 503 of those that are off."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import COLLECTOR_THRESHOLDS, create_app, new_event_loop
from bot.runtime import Runtime


def test_healthz(sqlite_runtime: Runtime) -> None:
    async def check() -> tuple[int, object]:
        async with TestClient(TestServer(create_app(sqlite_runtime))) as client:
            response = await client.get("/healthz")
            return response.status, await response.json()

    assert asyncio.run(check()) == (200, {"status": "ok"})


def test_the_endpoint_of_a_channel_that_is_off_answers_503_with_the_reason(sqlite_runtime: Runtime) -> None:
    async def post(path: str) -> tuple[int, object]:
        async with TestClient(TestServer(create_app(sqlite_runtime))) as client:
            response = await client.post(path, json={"type": "url_verification", "challenge": "x"})
            return response.status, await response.json()

    assert asyncio.run(post("/slack/events")) == (
        503,
        {"error": "Slack is off on this server: SLACK_BOT_TOKEN is not set"},
    )
    assert asyncio.run(post("/api/messages")) == (
        503,
        {"error": "Microsoft Teams is off on this server: MICROSOFT_APP_ID is not set"},
    )


_START_AND_COUNT_FROZEN = """
import asyncio, gc, json
from aiohttp.test_utils import TestServer
from bot.app import create_app, freeze_startup_heap
from bot.runtime import build_runtime
from bot.settings import Settings

async def main():
    app = create_app(build_runtime(Settings(), database_url="sqlite://"))
    app.on_startup.append(freeze_startup_heap)
    before = gc.get_freeze_count()
    default = gc.get_threshold()
    async with TestServer(app):
        print(json.dumps([before, gc.get_freeze_count(), default, gc.get_threshold()]))

asyncio.run(main())
"""


def test_freezing_the_start_up_heap_sets_it_aside_from_the_garbage_collector() -> None:
    """Full collections under load walked the whole start-up heap (over 100 ms each, every few
    seconds, with every request in flight waiting): frozen as the server starts, it is not; and
    the young generation is collected less often, so requests in flight are not promoted."""
    done = subprocess.run(
        [sys.executable, "-c", _START_AND_COUNT_FROZEN],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    before, after, default, serving = json.loads(done.stdout.strip().splitlines()[-1])
    assert before == 0
    assert after > 10_000
    assert serving == list(COLLECTOR_THRESHOLDS) != default


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not run on Windows")
def test_a_server_runs_on_uvloop_and_on_asyncios_loop_where_uvloop_is_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvloop  # a dependency on every platform these tests run on (pyproject.toml)

    loop = new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
        assert loop.run_until_complete(asyncio.to_thread(sum, [1, 2])) == 3  # threads hand back
    finally:
        loop.close()
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as on Windows: the import fails
    fallback, reference = new_event_loop(), asyncio.new_event_loop()
    try:
        assert type(fallback) is type(reference) and not isinstance(fallback, uvloop.Loop)
    finally:
        fallback.close()
        reference.close()


_BUILD_APP_WITH_CHANNELS_OFF = """
import json, sys
from bot.app import create_app
from bot.channels.configured import push_channels
from bot.runtime import build_runtime
from bot.settings import Settings
runtime = build_runtime(Settings(), database_url="sqlite://")
create_app(runtime, schedule=True)
assert push_channels(runtime.settings, pack=runtime.pack) == {}
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_an_app_and_its_scheduler_with_both_channels_off_load_neither_sdk() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _BUILD_APP_WITH_CHANNELS_OFF],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=300,
        check=True,
    )
    loaded = set(json.loads(done.stdout))
    assert "aiohttp" in loaded
    assert (
        loaded & {"slack_bolt", "slack_sdk", "botbuilder", "botframework", "microsoft_agents", "msrest"}
        == set()
    )


def test_create_app_says_which_channels_are_on(
    sqlite_runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.app")
    slack_on = sqlite_runtime.settings.replace(
        slack_bot_token="xoxb-test-bot-token",
        slack_signing_secret="test-signing-secret",
        slack_team_id="T0TEST",
    )
    create_app(replace(sqlite_runtime, settings=slack_on))
    said = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
    assert [m.split(":")[0] for m in said] == ["Microsoft Teams is off", "Slack is on"]
    assert said[1] == "Slack is on: POST /slack/events takes signed requests from workspace T0TEST only"
