"""Benchmark: one Teams turn, from POST /api/messages to the reply reaching the Bot Connector.

For each Teams SDK (botbuilder, and the Microsoft 365 Agents SDK): our bot on that SDK
(`create_app` in local mode with HAMPSHIRE_TEAMS_SDK set, on a temporary SQLite database: token
checks, member look-up cached, a router turn with its transaction, the reply as an Adaptive Card)
against that same SDK's bare echo bot (CloudAdapter + ActivityHandler, replying with text), both
served by aiohttp on loopback in this process and replying to the same local mock connector.
Rounds alternate (ours, echo, ours, ...) after a warm-up; each activity is posted and timed alone.

Prints, per SDK, p50/p99 for both, the ratio of the p50s and of the p99s, and the median of the
per-round p50 ratios with a bootstrap 95% interval. Exits 1 if a target is missed: p50 ratio at
most 1.5 (the interval's upper bound) and our p99 under 100 ms. Not a test: run it with

    .venv/bin/python bench/teams_turn.py [--activities 1000] [--rounds 10] [--sdk agents]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import create_app  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402

TARGET_P50_RATIO = 1.5
TARGET_P99_MS = 100.0
USERS = 20


class Connector:
    """A mock Bot Connector that notes when each reply arrives (keyed by the activity replied to)."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[int]] = {}
        self.server: TestServer | None = None
        self.url = ""

    async def _reply(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter_ns()
        await request.read()
        future = self.waiting.pop(request.match_info["aid"], None)
        if future is not None and not future.done():
            future.set_result(arrived)
        return web.json_response({"id": uuid.uuid4().hex}, status=201)

    async def _member(self, request: web.Request) -> web.Response:
        n = request.match_info["mid"].rsplit("-", 1)[-1]
        email = f"bench.user.{n}@example.police.uk"
        return web.json_response({"id": request.match_info["mid"], "name": f"Bench User {n}", "email": email})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._reply)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        self.url = str(self.server.make_url("/"))


class Echo(ActivityHandler):  # type: ignore[misc]
    """botbuilder's baseline: the smallest botbuilder bot that answers a message."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(f"You said: {turn_context.activity.text}")


class _NoAuth:
    APP_ID = ""
    APP_PASSWORD = ""


def _echo_server(adapter: Any, bot: Any) -> web.Application:
    """`POST /api/messages` served by an SDK's own adapter and bot, as its samples do."""

    async def messages(request: web.Request) -> web.Response:
        response = await adapter.process(request, bot)
        return response or web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    return app


def botbuilder_echo_app() -> web.Application:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_NoAuth()))
    bot = Echo()

    return _echo_server(adapter, bot)


def agents_echo_app() -> web.Application:
    """The Agents SDK's baseline: its smallest bot that answers a message (anonymous, as locally)."""
    from microsoft_agents.hosting.aiohttp import CloudAdapter as AgentsCloudAdapter
    from microsoft_agents.hosting.core import ActivityHandler as AgentsActivityHandler
    from microsoft_agents.hosting.core import TurnContext as AgentsTurnContext

    class AgentsEcho(AgentsActivityHandler):
        async def on_message_activity(self, turn_context: AgentsTurnContext) -> None:
            await turn_context.send_activity(f"You said: {turn_context.activity.text}")

    # Anonymous requests never ask the connection manager for a token.
    adapter = AgentsCloudAdapter(connection_manager=Any)
    adapter.on_turn_error = None
    bot = AgentsEcho()

    return _echo_server(adapter, bot)


ECHO_APPS = {"botbuilder": botbuilder_echo_app, "agents": agents_echo_app}


def activity(connector: Connector, tenant: str, n: int, text: str) -> dict[str, Any]:
    user = n % USERS
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "from": {"id": f"29:bench-user-{user}", "name": f"Bench User {user}", "aadObjectId": f"aad-{user}"},
        "recipient": {"id": "28:bench-bot", "name": "Op Hampshire"},
        "conversation": {"id": f"a:bench-{user}", "conversationType": "personal", "tenantId": tenant},
        "channelData": {"tenant": {"id": tenant}},
        "text": text,
        "textFormat": "plain",
    }


async def one_turn(
    http: aiohttp.ClientSession, url: str, connector: Connector, body: dict[str, Any]
) -> float:
    """Milliseconds from sending the POST to the reply's arrival at the connector."""
    arrived: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    connector.waiting[body["id"]] = arrived
    started = time.perf_counter_ns()
    async with http.post(url, json=body) as response:
        await response.read()
        if response.status >= 300:
            raise RuntimeError(f"{url} answered {response.status}")
    return (await asyncio.wait_for(arrived, 15) - started) / 1e6


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bootstrap(ratios: list[float], *, samples: int = 2000, seed: int = 1) -> tuple[float, float]:
    rng = random.Random(seed)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(samples))
    return medians[int(0.025 * samples)], medians[int(0.975 * samples) - 1]


async def run(sdk: str, activities: int, rounds: int, warmup: int) -> int:
    logging.disable(logging.WARNING)
    tenant = str(uuid.uuid4())
    folder = tempfile.mkdtemp(prefix="hampshire-bench-")
    settings = Settings(
        allow_unauthenticated=True,
        microsoft_app_tenant_id=tenant,
        database_url=f"sqlite:///{folder}/bench.db",
        teams_sdk=sdk,
    )
    runtime = build_runtime(settings)
    connector = Connector()
    await connector.start()
    ours_server = TestServer(create_app(runtime), host="127.0.0.1")
    echo_server = TestServer(ECHO_APPS[sdk](), host="127.0.0.1")
    await ours_server.start_server()
    await echo_server.start_server()
    urls = {
        "ours": str(ours_server.make_url("/api/messages")),
        "echo": str(echo_server.make_url("/api/messages")),
    }
    samples: dict[str, list[float]] = {"ours": [], "echo": []}
    round_ratios: list[float] = []
    per_round = max(1, activities // rounds)
    texts = ["menu", "help", "menu", "federation"]
    n = 0
    async with aiohttp.ClientSession() as http:
        for name in ("ours", "echo"):
            for _ in range(warmup):
                n += 1
                body = activity(connector, tenant, n, texts[n % len(texts)])
                await one_turn(http, urls[name], connector, body)
        for _ in range(rounds):
            this_round: dict[str, list[float]] = {"ours": [], "echo": []}
            for name in ("ours", "echo"):
                for _ in range(per_round):
                    n += 1
                    body = activity(connector, tenant, n, texts[n % len(texts)])
                    this_round[name].append(await one_turn(http, urls[name], connector, body))
                samples[name] += this_round[name]
            round_ratios.append(statistics.median(this_round["ours"]) / statistics.median(this_round["echo"]))
    await ours_server.close()
    await echo_server.close()
    if connector.server is not None:
        await connector.server.close()
    runtime.engine.dispose()
    return report(sdk, samples, round_ratios)


def report(sdk: str, samples: dict[str, list[float]], round_ratios: list[float]) -> int:
    try:
        git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        sha = git.stdout.strip() or "unknown"
    except OSError:
        sha = "unknown"
    count = len(samples["ours"])
    print(f"\n{sdk}: teams turn, POST /api/messages -> reply at the mock connector ({count} activities each)")
    print(f"python {platform.python_version()}, {platform.platform()}, {os.cpu_count()} CPUs, git {sha}")
    print(f"{'':6} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, label in (("echo", "echo"), ("ours", "ours")):
        values = samples[name]
        print(
            f"{label:6} {percentile(values, 0.5):8.2f} {percentile(values, 0.9):8.2f} "
            f"{percentile(values, 0.99):8.2f} {max(values):8.2f}"
        )
    p50_ratio = percentile(samples["ours"], 0.5) / percentile(samples["echo"], 0.5)
    p99_ratio = percentile(samples["ours"], 0.99) / percentile(samples["echo"], 0.99)
    median_ratio = statistics.median(round_ratios)
    low, high = bootstrap(round_ratios)
    ours_p99 = percentile(samples["ours"], 0.99)
    print(f"{sdk} ratio ours/{sdk} echo: p50 {p50_ratio:.2f}, p99 {p99_ratio:.2f}")
    print(f"per-round p50 ratio: median {median_ratio:.2f}, 95% CI [{low:.2f}, {high:.2f}]")
    ok = high <= TARGET_P50_RATIO and ours_p99 < TARGET_P99_MS
    print(
        f"targets: p50 ratio <= {TARGET_P50_RATIO} (CI upper bound {high:.2f}), "
        f"p99 < {TARGET_P99_MS:.0f} ms (ours {ours_p99:.1f}): {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--activities", type=int, default=1000, help="timed activities per bot")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds")
    parser.add_argument("--warmup", type=int, default=50, help="untimed activities per bot first")
    parser.add_argument("--sdk", choices=sorted(ECHO_APPS), action="append", help="default: both")
    args = parser.parse_args()
    failed = 0
    for sdk in args.sdk or list(ECHO_APPS):
        failed |= asyncio.run(run(sdk, args.activities, args.rounds, args.warmup))
    return failed


if __name__ == "__main__":
    sys.exit(main())
