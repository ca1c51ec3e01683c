"""Benchmark (not a test): how fast our /slack/events acknowledges, against a bare slack-bolt app.

Three servers run in this process on loopback, each behind aiohttp, with Slack mocked at its Web
API (tests/slack_mock.py) and a temporary SQLite database:

- ours: the real application (`bot.app.create_app`): our signature check, the payload's shape,
  bolt, the listeners, and the inbox row committed (work is durable before Slack is answered); the
  work itself (a real conversation turn, its reply from the outbox as a chat.postMessage to the
  mock) starts once the answer has been written;
- bolt: a bare `AsyncApp` with a no-op listener and bolt's defaults (its own signature check;
  block actions are acknowledged from a task bolt polls every 10 ms);
- bolt-inline: the same with `process_before_response=True`, bolt's fastest acknowledgement.

The load comes from another process, as Slack's requests come from another machine (in one process
the work after the answer would hold the GIL while the client reads it); with two or more CPUs the
servers are pinned to the first and the client to the second. For a DM message event and a block
action (a button), N signed requests each, in interleaved rounds (ours, bolt, bolt-inline, then the
reverse order), one at a time, timed from send to response. Between requests the client waits,
untimed, until our work is done, so every acknowledgement meets an idle server as the no-op
baselines do; `--busy` does not wait (the work then competes with the next acknowledgements).
Requests are paced (`--pace`, default 10 ms: 100 a second, twelve times the most Slack sends one
workspace's app, 30,000 events an hour): back-to-back, the baselines would answer from caches
still warm from their previous no-op while ours had just done a conversation turn in between.

Prints p50/p99/max per server and payload, the ratio of p50s, the median of per-round p50 ratios
with a bootstrap 95% interval, and the verdict against the targets: p50 ratio <= 1.25 (against
both baselines), p99 < 100 ms, nothing over 3 s.

    .venv/bin/python bench/slack_ack.py [--requests 1000] [--rounds 10] [--busy]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import multiprocessing
import os
import platform
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request  # noqa: E402
from slack_bolt.async_app import AsyncAck, AsyncApp  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.channels.slack.adapter import SLACK, SlackBot  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from store.db import make_engine  # noqa: E402
from tests.slack_mock import APP_TOKEN, BOT_TOKEN, SECRET, TEAM, MockSlack  # noqa: E402

USER = "U0BENCH"
PAYLOADS = ("message", "block_action")
TARGET_RATIO = 1.25
TARGET_P99_MS = 100.0
ACK_DEADLINE_MS = 3000.0


@dataclass
class Server:
    name: str
    url: str
    samples: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PAYLOADS})
    rounds: dict[str, list[list[float]]] = field(default_factory=lambda: {p: [] for p in PAYLOADS})


@dataclass(frozen=True)
class Plan:
    """What the client process does: which servers, how many requests, where to wait for idle."""

    urls: dict[str, str]
    settle_url: str
    rounds: int
    per_round: int
    busy: bool
    pace: float
    cpu: int | None


async def _nothing() -> None:
    return None


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"


def _bare_bolt(api_url: str, *, inline: bool) -> web.Application:
    """A bare bolt app with no-op listeners, on aiohttp through bolt's own adapter functions."""
    bolt = AsyncApp(
        signing_secret=SECRET,
        client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url),
        process_before_response=inline,
    )

    @bolt.event("message")
    async def on_message(ack: AsyncAck) -> None:
        await ack()

    @bolt.action(re.compile(".*"))
    async def on_action(ack: AsyncAck) -> None:
        await ack()

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    return app


class Requests:
    """Signed requests shaped as Slack sends them, each with fresh ids."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)

    def _signed(self, body: bytes, content_type: str) -> tuple[bytes, dict[str, str]]:
        ts = str(int(time.time()))
        digest = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": f"v0={digest}",
        }
        return body, headers

    def message(self) -> tuple[bytes, dict[str, str]]:
        n = next(self.ids)
        ts = f"{int(time.time())}.{n:06d}"
        event = {
            "client_msg_id": f"bench-{n}",
            "type": "message",
            "text": "help",
            "user": USER,
            "ts": ts,
            "team": TEAM,
            "channel": f"D{USER}",
            "event_ts": ts,
            "channel_type": "im",
        }
        body = {
            "token": "unused",
            "team_id": TEAM,
            "api_app_id": "A0BENCH",
            "event": event,
            "type": "event_callback",
            "event_id": f"EvBENCH{n:08d}",
            "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": TEAM, "user_id": "U0BOT", "is_bot": True}],
            "is_ext_shared_channel": False,
        }
        return self._signed(json.dumps(body).encode(), "application/json")

    def block_action(self) -> tuple[bytes, dict[str, str]]:
        n = next(self.ids)
        payload = {
            "type": "block_actions",
            "user": {"id": USER, "username": "bench", "name": "bench", "team_id": TEAM},
            "api_app_id": "A0BENCH",
            "token": "unused",
            "container": {"type": "message", "message_ts": "1.000001", "channel_id": f"D{USER}"},
            "trigger_id": f"trig-bench-{n}",
            "team": {"id": TEAM, "domain": "bench"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": f"D{USER}", "name": "directmessage"},
            "response_url": "https://hooks.slack.com/actions/T/1/x",
            "actions": [
                {
                    "action_id": "choice:1",
                    "block_id": "b",
                    "text": {"type": "plain_text", "text": "What happens next"},
                    "value": json.dumps({"s": "__menu__", "v": "what_happens_next"}),
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return self._signed(body, "application/x-www-form-urlencoded")


async def _one(
    session: aiohttp.ClientSession, name: str, url: str, request: tuple[bytes, dict[str, str]]
) -> float:
    body, headers = request
    started = time.perf_counter_ns()
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        status = response.status
    elapsed = (time.perf_counter_ns() - started) / 1e6
    if status != 200:
        raise SystemExit(f"{name} answered {status}")
    return elapsed


async def _drive(plan: Plan) -> dict[str, dict[str, list[list[float]]]]:
    """The client: warm-up, then the interleaved rounds; samples per server, payload and round."""
    requests = Requests()
    make = {"message": requests.message, "block_action": requests.block_action}
    names = list(plan.urls)
    results: dict[str, dict[str, list[list[float]]]] = {n: {p: [] for p in PAYLOADS} for n in names}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=4)) as session:

        async def settle(name: str) -> None:
            async with session.post(f"{plan.settle_url}/{name}") as response:
                await response.read()

        for name in names:  # warm-up: first-request paths, bolt's auth.test
            for payload in PAYLOADS:
                for _ in range(50):
                    await _one(session, name, plan.urls[name], make[payload]())
                    await settle(name)
        for number in range(plan.rounds):
            order = names if number % 2 == 0 else list(reversed(names))
            for payload in PAYLOADS:
                for name in order:
                    samples = []
                    for _ in range(plan.per_round):
                        samples.append(await _one(session, name, plan.urls[name], make[payload]()))
                        if not plan.busy:
                            await settle(name)
                        await asyncio.sleep(plan.pace)
                    await settle(name)
                    results[name][payload].append(samples)
    return results


def _client_process(plan: Plan, results: Any) -> None:
    if plan.cpu is not None:
        os.sched_setaffinity(0, {plan.cpu})
    results.put(asyncio.run(_drive(plan)))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _bootstrap(ratios: list[float], runs: int = 2000) -> tuple[float, float]:
    rng = random.Random(7)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(runs))
    return medians[int(0.025 * runs)], medians[int(0.975 * runs) - 1]


def _git_sha() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


async def run(total: int, rounds: int, busy: bool, pace: float) -> int:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        os.sched_setaffinity(0, {cpus[0]})
    per_round = max(1, total // rounds)
    mock = MockSlack()
    api_url = await mock.start()
    mock.add_user(USER, "pc.bench.mark@example.police.uk", name="PC Bench Mark")
    folder = tempfile.TemporaryDirectory(prefix="slack-ack-")
    settings = Settings(
        database_url=f"sqlite:///{folder.name}/bench.db",
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SECRET,
        slack_app_token=APP_TOKEN,
        slack_team_id=TEAM,
        slack_api_url=api_url,
    )
    runtime = await asyncio.to_thread(
        build_runtime, settings, engine=make_engine(settings.database_url or "")
    )
    ours_app = create_app(runtime)
    bot: SlackBot = ours_app[SLACK]
    settles: dict[str, Callable[[], Awaitable[None]]] = {
        "ours": bot.settle,
        "bolt": _nothing,
        "bolt-inline": _nothing,
    }

    async def settle(request: web.Request) -> web.Response:
        await settles[request.match_info["name"]]()
        return web.Response(text="idle")

    control = web.Application()
    control.router.add_post("/settle/{name}", settle)
    runners = []
    urls = {}
    for name, app in (
        ("ours", ours_app),
        ("bolt", _bare_bolt(api_url, inline=False)),
        ("bolt-inline", _bare_bolt(api_url, inline=True)),
        ("control", control),
    ):
        runner, url = await _serve(app)
        runners.append(runner)
        urls[name] = url
    control_url = urls.pop("control").replace("/slack/events", "/settle")
    plan = Plan(urls, control_url, rounds, per_round, busy, pace, cpus[1] if len(cpus) >= 2 else None)

    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    client = context.Process(target=_client_process, args=(plan, results), name="slack-ack-client")
    client.start()
    samples = await asyncio.to_thread(results.get)
    await asyncio.to_thread(client.join)

    for runner in runners:
        await runner.cleanup()
    await bot.close()
    await mock.stop()
    runtime.engine.dispose()
    folder.cleanup()
    servers = []
    for name in urls:
        server = Server(name, urls[name])
        for payload in PAYLOADS:
            server.rounds[payload] = samples[name][payload]
            server.samples[payload] = [v for r in samples[name][payload] for v in r]
        servers.append(server)
    return _report(servers, per_round * rounds, rounds, busy, pace, len(cpus))


def _report(servers: list[Server], n: int, rounds: int, busy: bool, pace: float, cpus: int) -> int:
    by_name = {s.name: s for s in servers}
    ours = by_name["ours"]
    print(
        f"slack ack latency: {n} signed requests per server and payload, {rounds} interleaved rounds, "
        f"{'busy' if busy else 'idle between requests'}, {pace * 1000:.0f} ms between requests, "
        f"client in another process\n"
        f"python {platform.python_version()}, {platform.machine()}, {cpus} cpu, "
        f"sqlite {sqlite3.sqlite_version}, slack-bolt {version('slack-bolt')}, "
        f"slack-sdk {version('slack-sdk')}, aiohttp {version('aiohttp')}, git {_git_sha()}\n"
    )
    print(f"{'payload':<13}{'server':<13}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for payload in PAYLOADS:
        for server in servers:
            values = server.samples[payload]
            p50, p99 = _pct(values, 0.5), _pct(values, 0.99)
            print(f"{payload:<13}{server.name:<13}{p50:>9.2f}{p99:>9.2f}{max(values):>9.2f}")
    print()
    verdicts = []
    for payload in PAYLOADS:
        mine = ours.samples[payload]
        p99 = _pct(mine, 0.99)
        worst = max(mine)
        for baseline in ("bolt", "bolt-inline"):
            base = by_name[baseline]
            ratio = _pct(mine, 0.5) / _pct(base.samples[payload], 0.5)
            per_round = [
                statistics.median(a) / statistics.median(b)
                for a, b in zip(ours.rounds[payload], base.rounds[payload], strict=True)
            ]
            low, high = _bootstrap(per_round)
            ok = ratio <= TARGET_RATIO
            verdicts.append(ok)
            print(
                f"{payload:<13} ours/{baseline:<12} p50 ratio {ratio:5.2f}  "
                f"(per-round median {statistics.median(per_round):.2f}, 95% CI {low:.2f}-{high:.2f})  "
                f"target <= {TARGET_RATIO}: {'met' if ok else 'MISSED'}"
            )
        verdicts += [p99 < TARGET_P99_MS, worst < ACK_DEADLINE_MS]
        print(
            f"{payload:<13} ours p99 {p99:.2f} ms (target < {TARGET_P99_MS:.0f} ms: "
            f"{'met' if p99 < TARGET_P99_MS else 'MISSED'}); slowest {worst:.2f} ms "
            f"(Slack's 3 s: {'met' if worst < ACK_DEADLINE_MS else 'MISSED'})"
        )
    print("\nall targets met" if all(verdicts) else "\nsome targets MISSED")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=1000, help="timed requests per server and payload")
    parser.add_argument(
        "--rounds", type=int, default=10, help="interleaved rounds (each server, each payload)"
    )
    parser.add_argument(
        "--busy", action="store_true", help="do not wait for our background work between requests"
    )
    parser.add_argument(
        "--pace", type=float, default=0.01, help="seconds between requests (Slack sends at most ~8 a second)"
    )
    args = parser.parse_args()
    return asyncio.run(run(args.requests, args.rounds, args.busy, args.pace))


if __name__ == "__main__":
    sys.exit(main())
