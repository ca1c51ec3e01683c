"""Benchmark: delivering 5,000 nudges against mock platforms that enforce the real rate limits.

Two runs, each with 5,000 messages queued in the outbox for 200 people:

- **Teams**: a mock Bot Connector enforcing, per conversation, 7 messages a second, 8 in 2 seconds,
  60 in 30 seconds and 1,800 an hour, and 50 a second per tenant; over 200 conversations the
  ceiling is the tenant's 50 a second.
- **Slack**: a mock Web API enforcing one message a second per channel and a workspace cap of
  525 a minute (Slack's "several hundred"); over 200 channels the ceiling is the workspace cap.

Every request over a limit gets 429 with Retry-After and is counted. Time runs faster by `--speed`
for the mocks and our rate limiter alike, so a run takes seconds, not minutes. Prints the achieved
rate as a fraction of the ceiling (target at least 0.9), and how many messages were lost or
duplicated (target 0).

    .venv/bin/python bench/delivery.py [--messages 5000] [--people 200] [--speed 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.channels.outbound import Channel
from bot.reminders.delivery import Deliverer
from bot.reminders.ratelimit import RateLimiter
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from store.db import make_engine
from store.models import Nudge, Person
from store.outbox import enqueue, outbox_row
from store.people import ensure_identity

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TENANT = "00000000-0000-4000-8000-00000000bec4"
TEAM = "T0BENCH"


class ScaledTime:
    """Time that runs `speed` times faster, shared by the mocks and our limiter."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.start = time.monotonic()

    def __call__(self) -> float:
        return (time.monotonic() - self.start) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)


@dataclass
class Window:
    """A sliding window limit enforced by a mock: `count` per `per` (scaled) seconds."""

    count: int
    per: float
    stamps: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def admit(self, key: str, now: float) -> float:
        """0 if a request for `key` fits now (and records it), else the seconds to wait."""
        stamps = self.stamps[key]
        while stamps and stamps[0] <= now - self.per:
            stamps.popleft()
        if len(stamps) < self.count:
            return 0.0
        return stamps[0] + self.per - now


@dataclass
class Mock:
    """What a mock platform saw: each delivered message, and each request it refused."""

    clock: ScaledTime
    limits: list[tuple[Window, Callable[[str], str]]]
    delivered: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    first: float | None = None
    last: float = 0.0

    def admit(self, conversation: str) -> float:
        now = self.clock()
        waits = [window.admit(key(conversation), now) for window, key in self.limits]
        if any(waits):
            self.refused += 1
            return max(waits)
        for window, key in self.limits:
            window.stamps[key(conversation)].append(now)
        self.first = now if self.first is None else self.first
        self.last = now
        return 0.0


def _too_many(wait: float, speed: float, body: dict[str, Any]) -> web.Response:
    # Retry-After in whole real seconds, rounded up, as platforms send it.
    seconds = max(1, int(-(-wait // speed)))
    return web.json_response(body, status=429, headers={"Retry-After": str(seconds)})


def teams_connector(mock: Mock) -> web.Application:
    async def activities(request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        wait = mock.admit(conversation)
        if wait:
            return _too_many(wait, mock.clock.speed, {"error": {"code": "Throttled", "message": "slow down"}})
        body = await request.json()
        mock.delivered[json.dumps(body.get("attachments"), sort_keys=True)] += 1
        return web.json_response({"id": f"activity-{sum(mock.delivered.values())}"}, status=201)

    app = web.Application()
    app.router.add_post("/v3/conversations/{conversation}/activities", activities)
    app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", activities)
    return app


def slack_api(mock: Mock) -> web.Application:
    async def post_message(request: web.Request) -> web.Response:
        form = await request.json() if request.content_type == "application/json" else await request.post()
        channel = str(form["channel"])
        wait = mock.admit(channel)
        if wait:
            return _too_many(wait, mock.clock.speed, {"ok": False, "error": "ratelimited"})
        metadata = form.get("metadata")
        metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
        mock.delivered[str((metadata or {}).get("event_payload", {}).get("key"))] += 1
        return web.json_response({"ok": True, "channel": f"D{channel}", "ts": f"{time.time():.6f}"})

    app = web.Application()
    app.router.add_post("/api/chat.postMessage", post_message)
    return app


def queue_messages(
    runtime: Runtime,
    *,
    messages: int,
    people: int,
    address: Callable[[int], dict[str, Any]],
    channel: str,
    tenant: str,
) -> None:
    """`messages` distinct notices to `people` colleagues, each reachable on `channel`."""
    with runtime.sessions.begin() as session:
        persons = [Person(email=f"pc.bench{n}@example.police.uk", created_at=NOW) for n in range(people)]
        session.add_all(persons)
        session.flush()
        for n, person in enumerate(persons):
            ensure_identity(
                session=session,
                person=person,
                channel=channel,
                tenant=tenant,
                user_id=f"U{n:05d}",
                now=NOW,
                address=address(n),
            )
        rows = [
            outbox_row(
                kind="slt_new_case",
                dedupe_key=f"bench:{n}",
                recipient_id=persons[n % people].id,
                due_slot=NOW,
                payload={"reference": f"OH-2026-{n:05d}"},
                now=NOW,
                not_before=NOW,
            )
            for n in range(messages)
        ]
        enqueue(session=session, rows=rows)


async def _waiting(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return len(session.scalars(select(Nudge.id).where(Nudge.status.in_(("pending", "sending")))).all())


async def run(
    label: str,
    runtime: Runtime,
    channel: Channel,
    mock: Mock,
    ceiling: float,
    messages: int,
) -> None:
    def now() -> datetime:  # platform time, so that backed-off rows come round as they would
        return NOW + timedelta(seconds=mock.clock())

    deliverer = Deliverer(
        pack=runtime.pack,
        sessions=runtime.sessions,
        clock=now,
        channels={channel.name: channel},
        worker="bench",
        limiter=RateLimiter(clock=mock.clock, sleep=mock.clock.sleep),
        batch=500,
        concurrency=16,
    )
    started = mock.clock()
    while await _waiting(runtime):
        report = await deliverer.run_once()
        if report.sent == 0:
            await mock.clock.sleep(1.0)
    elapsed = mock.last - (mock.first if mock.first is not None else started)
    delivered = sum(mock.delivered.values())
    with runtime.sessions() as session:
        statuses = Counter(session.scalars(select(Nudge.status)))
    lost = messages - len(mock.delivered)
    duplicated = delivered - len(mock.delivered)
    rate = (delivered - 1) / elapsed if elapsed > 0 and delivered > 1 else 0.0
    real = elapsed / mock.clock.speed
    print(f"{label}: {delivered:,} delivered in {elapsed:.1f} s of platform time ({real:.1f} s real)")
    print(
        f"  rate {rate:.1f}/s against a ceiling of {ceiling:.1f}/s: {rate / ceiling:.2f} of the ceiling "
        f"(target >= 0.9: {'met' if rate / ceiling >= 0.9 else 'NOT met'})"
    )
    print(
        f"  lost {lost}, duplicated {duplicated} (target 0); 429s from the mock: {mock.refused}; "
        f"outbox: {dict(statuses)}"
    )


async def bench_teams(args: argparse.Namespace, folder: Path) -> None:
    from bot.channels.teams.options import TeamsOptions
    from bot.channels.teams.proactive import make_teams_channel

    clock = ScaledTime(args.teams_speed)
    conversation = lambda key: f"conversation:{key}"  # noqa: E731
    mock = Mock(
        clock,
        [
            (Window(7, 1.0), conversation),
            (Window(8, 2.0), conversation),
            (Window(60, 30.0), conversation),
            (Window(1800, 3600.0), conversation),
            (Window(50, 1.0), lambda key: "tenant"),
        ],
    )
    server = TestServer(teams_connector(mock), host="127.0.0.1")
    await server.start_server()
    service_url = str(server.make_url("")).rstrip("/") + "/"
    settings = Settings(allow_unauthenticated=True, microsoft_app_tenant_id=TENANT)
    runtime = build_runtime(
        settings, engine=make_engine(f"sqlite:///{folder / 'teams.db'}"), clock=lambda: NOW
    )

    def address(n: int) -> dict[str, Any]:
        return {
            "channelId": "msteams",
            "serviceUrl": service_url,
            "conversation": {"id": f"a:person{n}", "conversationType": "personal", "tenantId": TENANT},
            "user": {"id": f"29:person{n}", "aadObjectId": f"aad-{n}"},
            "bot": {"id": "28:bench-bot"},
        }

    queue_messages(
        runtime, messages=args.messages, people=args.people, address=address, channel="msteams", tenant=TENANT
    )
    channel = make_teams_channel(settings, pack=runtime.pack, options=TeamsOptions(sleep=clock.sleep))
    assert channel is not None
    await run("Teams", runtime, channel, mock, 50.0, args.messages)
    await server.close()


async def bench_slack(args: argparse.Namespace, folder: Path) -> None:
    from bot.channels.slack.adapter import WORKSPACE_MESSAGES_PER_MINUTE, make_slack_channel

    clock = ScaledTime(args.speed)
    mock = Mock(
        clock,
        [
            (Window(1, 1.0), lambda key: f"channel:{key}"),
            (Window(WORKSPACE_MESSAGES_PER_MINUTE, 60.0), lambda key: "workspace"),
        ],
    )
    server = TestServer(slack_api(mock), host="127.0.0.1")
    await server.start_server()
    settings = Settings(
        slack_bot_token="xoxb-bench-token",
        slack_signing_secret="bench",
        slack_team_id=TEAM,
        slack_api_url=str(server.make_url("")).rstrip("/") + "/api/",
    )
    runtime = build_runtime(
        settings, engine=make_engine(f"sqlite:///{folder / 'slack.db'}"), clock=lambda: NOW
    )
    queue_messages(
        runtime,
        messages=args.messages,
        people=args.people,
        address=lambda n: {"team": TEAM, "user": f"U{n:05d}"},
        channel="slack",
        tenant=TEAM,
    )
    channel = make_slack_channel(settings, runtime.pack)
    assert channel is not None
    channel.sleep = clock.sleep
    await run("Slack", runtime, channel, mock, WORKSPACE_MESSAGES_PER_MINUTE / 60, args.messages)
    await channel.aclose()
    await server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--speed", type=float, default=20.0, help="how much faster than real time Slack runs")
    parser.add_argument(
        "--teams-speed", type=float, default=1.0, help="Teams' ceiling is CPU-bound: keep it real"
    )
    parser.add_argument("--platforms", nargs="+", default=["teams", "slack"], choices=["teams", "slack"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        benches: Mapping[str, Callable[[argparse.Namespace, Path], Awaitable[None]]] = {
            "teams": bench_teams,
            "slack": bench_slack,
        }
        for name in args.platforms:
            asyncio.run(benches[name](args, Path(folder)))


if __name__ == "__main__":
    main()
