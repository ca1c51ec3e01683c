"""Benchmark (not a test): 1,000 concurrent conversations against the real server, with Locust.

Holding under load (issue 12): one instance on SQLite, then one on PostgreSQL (the databases
compared like with like), then two on PostgreSQL sharing one database, each a separate process
serving the real application (Slack's and Teams' endpoints, `/healthz`).
Slack's Web API, Teams' Bot Connector and the Bot Framework signing keys are mocked on loopback in
this process (tests/slack_mock.py, tests/fake_teams.py). The load comes from another process: a
Locust runner (`drive`, gevent) with 1,000 users, half on Slack (signed Events API DMs) and half
on Teams (Activity JSON with a signed channel token), each one conversation, spread over the
instances. Each user says something every `--pace` seconds (default 10: 100 turns a second in all,
twelve times the most events Slack sends one workspace's app and ten times a force's busiest hour
as performance.md (f) sets it). The first `--warm-up` seconds (default: one pace, so each user's
first message) are timed apart and printed on a line of their own: every person is then new to the
database and to the instances' caches (Slack's users.info, Teams' member look-up), which a force's
running bot sees once per person, not at every turn, and performance.md section 3 measures after a
warm-up. The measured load then runs for `--seconds` (bounded), and the replies are given `--drain`
seconds to arrive. Each user waits a random phase within the pace before its first message (seeded,
`--seed`), so the offered rate is steady from the first second: Locust starts users in batches, one
a second, and users started together would otherwise speak together, every second, for the whole
run (before 28 Nov 2026 they did: the "100 turns/s" was a burst of 100 at the top of each second).

Prints, per configuration: Slack acknowledgement p50/p99 (Locust's response time); turn latency
p50/p99, timed in each server as performance.md (f) defines it, from the request reaching the server
to the turn committed with its replies queued (a turn that fails is not timed); reply latency
p50/p99, timed by the load (Slack: from sending the DM to the reply reaching the mock Web API;
Teams: the request, which returns once the reply is posted); errors (non-2xx or failed requests);
unanswered (a Slack DM acknowledged whose reply had not come by the end of the drain: still queued
in the inbox, or lost); the servers' CPU time per message (read from /proc: what a turn costs,
whatever the machine; over the measured load); their threads' context switches per message (read
from /proc: each time a thread gave the CPU up, waiting for a socket, a lock or the GIL, or had it
taken away); and the SQLite/PostgreSQL ratios of the turn p99s. Goals: Slack
acknowledgement p99 < 1.5 s, turn p99 < 100 ms, no errors, nothing unanswered.

The baseline runs first, under the same load: a bare aiohttp server (`null`) that makes the same
HTTP exchanges with no bot behind them (a Slack event answered 200 and one `chat.postMessage` to
the mock; a Teams activity answered 200 after one post to the mock connector). Its figures are the
floor of the rig itself (Locust, the mocks, loopback), and each configuration's reply p50 and p99
are also printed as ratios to it (performance.md section 3: a baseline in the same run).

On a machine with two CPUs or more, the servers run on the first and the load and the mocks on the
others (performance.md section 3: pin the server to core 0, the load and mocks to core 1), so the
load tool is not measured as the bot's cost; `--no-pin` shares every CPU. With three CPUs or more
each PostgreSQL instance has one of its own; with two, both run on the first, and each costs the
other CPU and context switches (the x1 and x2 rows tell that cost from the database's). The
database server is the machine's own and is not pinned.

    .venv/bin/python bench/load.py [--users 1000] [--seconds 60] [--warm-up 10] [--pace 10] [--drain 30]
                                   [--no-pin] [--only sqlite|postgresql-x1|postgresql-x2] (repeatable)
                                   [--burst 1]

Headroom: a shorter `--pace` offers more (`--pace 5`: 200 turns/s); the offered load at which a goal
stops holding, against the 100 turns/s it is set at, is the servers' headroom on this machine.
Burst: `--burst 1` sends every user's first message within the first second (performance.md (f):
1,000 in 1 s, acknowledgement and turn p99 within 3 s), then keeps the pace.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: Credentials of the mocks; never real ones.
SLACK_SECRET = "bench-signing-secret"
OUTBOUND = "bench-outbound-token"
#: The bot token the mock Web API accepts (tests.slack_mock.BOT_TOKEN, not imported: `drive` must
#: patch the standard library before anything imports it).
SLACK_TOKEN = "xoxb-test-bot-token"
#: Slack ack and turn goals, in milliseconds.
ACK_GOAL, TURN_GOAL = 1500.0, 100.0
#: A burst's goal for acknowledgement and turn p99 (performance.md (f)), in milliseconds: within
#: Slack's 3 s, past which it sends the event again.
BURST_GOAL = 3000.0


# --- the load (a separate process: Locust runs on gevent, which patches the standard library) ----


def drive(plan_file: str) -> None:
    """Run the Locust users the plan describes, then write every request made to its `out` file."""
    from gevent import monkey

    monkey.patch_all()
    import gevent
    from locust import HttpUser, events, task
    from locust.env import Environment
    from locust.exception import StopUser

    from tests.slack_mock import slack_signature

    plan = json.loads(Path(plan_file).read_text(encoding="utf-8"))
    record: list[dict[str, Any]] = []
    people = iter(range(10**9))
    phases = random.Random(plan["seed"])  # the same arrivals run after run
    # The warm-up (each user's first message, a pace long) is timed apart from the measured load
    # that follows it. Users stop by themselves at the deadline, each after its reply, so no
    # request is cut off.
    begin = time.time()
    measure_from = begin + plan["warm_up"]
    deadline = measure_from + plan["seconds"]

    class Conversation(HttpUser):
        """One person in one conversation, on Slack or Teams, on one of the instances."""

        host = plan["hosts"][0]

        def on_start(self) -> None:
            self.number = next(people)
            # Users alternate platforms, and each pair goes to the next instance: every instance
            # serves half of each platform.
            self.base = plan["hosts"][(self.number // 2) % len(plan["hosts"])]
            self.slack = self.number % 2 == 0
            self.said = 0
            # Each user speaks at its own phase within the pace, every pace seconds after it:
            # Locust starts users in batches, one a second, and Locust's own pacing counts from a
            # user's start, so users started together would speak together for the whole run.
            # Phases count from one start, not the user's own: a user Locust started late still
            # sends its first message within the warm-up.
            # With a burst, the first messages are squeezed into its seconds, phases kept in order.
            self.phase = phases.uniform(0, plan["pace"])
            first = self.phase * plan["burst"] / plan["pace"] if plan["burst"] else self.phase
            self.due = begin + first
            gevent.sleep(self.wait_time())

        def wait_time(self) -> float:
            """Seconds until this user's next message is due (its phase kept, whatever a turn took)."""
            return max(0.0, self.due - time.time())

        @task
        def say(self) -> None:
            started = time.time()
            if started >= deadline:
                raise StopUser()
            self.said += 1
            self.due = begin + self.phase + self.said * plan["pace"]
            if self.slack:
                user = plan["slack_users"][self.number // 2]
                body = json.dumps(_slack_event(plan["team"], user, f"Ev{self.number}x{self.said}", started))
                signed = slack_signature(SLACK_SECRET, body.encode(), int(started))
                headers = {"Content-Type": "application/json", **signed}
                kind = "slack"
                url = "/slack/events"
            else:
                person = plan["teams_users"][self.number // 2]
                body = json.dumps(_teams_message(plan, person))
                headers = {"Content-Type": "application/json", "Authorization": f"Bearer {plan['token']}"}
                kind, user, url = "teams", person["id"], "/api/messages"
            with self.client.post(
                self.base + url, data=body, headers=headers, name=kind, catch_response=True
            ) as answer:
                ok = 200 <= answer.status_code < 300
                record.append(
                    {
                        "kind": kind,
                        "user": user,
                        "at": started,
                        "ms": answer.elapsed.total_seconds() * 1000,
                        "ok": ok,
                        "status": answer.status_code,
                        "warm_up": started < measure_from,
                    }
                )
                if ok:
                    answer.success()
                else:
                    answer.failure(f"HTTP {answer.status_code}")

    environment = Environment(user_classes=[Conversation], events=events)
    runner = environment.create_local_runner()
    runner.start(plan["users"], spawn_rate=plan["spawn_rate"])
    gevent.sleep(plan["warm_up"] + plan["seconds"])
    for _ in range(int(plan["pace"] + 60)):  # a bound on the wait for the last requests
        if runner.user_count == 0:
            break
        gevent.sleep(1)
    runner.quit()
    Path(plan["out"]).write_text(
        json.dumps({"measure_from": measure_from, "requests": record}), encoding="utf-8"
    )


def _slack_event(team: str, user: str, event_id: str, now: float) -> dict[str, Any]:
    ts = f"{now:.6f}"
    return {
        "token": "unused",
        "team_id": team,
        "api_app_id": "A0BENCH",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(now),
        "authorizations": [{"team_id": team, "user_id": "U0BOT", "is_bot": True}],
        "event": {
            "type": "message",
            "channel_type": "im",
            "channel": f"D{user}",
            "user": user,
            "text": "menu",
            "ts": ts,
            "event_ts": ts,
            "team": team,
        },
    }


def _teams_message(plan: dict[str, Any], person: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"f:{uuid.uuid4().hex}",
        "timestamp": "2026-11-23T09:00:00.000Z",
        "channelId": "msteams",
        "serviceUrl": plan["service_url"],
        "from": {"id": person["id"], "name": person["name"], "aadObjectId": person["aad"]},
        "recipient": {"id": f"28:{plan['app_id']}", "name": "Op Hampshire"},
        "conversation": {
            "id": f"a:{person['aad']}",
            "conversationType": "personal",
            "tenantId": plan["tenant"],
        },
        "channelData": {"tenant": {"id": plan["tenant"]}},
        "locale": "en-GB",
        "text": "menu",
        "textFormat": "plain",
    }


# --- one instance of the bot (a separate process) ---------------------------------------------


async def _listen(app: Any) -> None:
    """Serve `app` on an ephemeral loopback port, print the port for the runner, and run until killed."""
    import asyncio

    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    from bot.app import LISTEN_BACKLOG

    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=LISTEN_BACKLOG)  # as `hampshire serve` listens
    await site.start()
    print(f"PORT {runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()


def serve(config_file: str) -> None:
    """Serve the real application on an ephemeral loopback port; print the port; run until killed."""
    import asyncio
    import contextvars
    import signal

    from aiohttp import web

    from bot.app import RUNTIME, freeze_startup_heap, new_event_loop
    from bot.channels.inbound import Inbound
    from bot.channels.port import ReplyLease, Turned
    from bot.channels.slack.adapter import add_slack_routes
    from bot.channels.teams.endpoint import add_teams_routes
    from bot.channels.teams.options import TeamsOptions
    from bot.conversation import RuntimePort
    from bot.health import add_health
    from bot.runtime import build_runtime
    from bot.settings import Settings
    from store.db import make_engine

    # performance.md (f): a turn's latency runs from the request reaching the handler to the
    # turn's state committed with its replies queued. The arrival is stamped in the request's
    # context, which the turn inherits (Slack's in the background task, Teams' in the request).
    arrived: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
        "arrived", default=None
    )
    turns: list[tuple[str, float, float]] = []

    @web.middleware
    async def stamp(request: web.Request, handler: Any) -> web.StreamResponse:
        # The wall clock too, shared with the load's process, to tell the warm-up's turns apart.
        arrived.set((time.perf_counter(), time.time()))
        return await handler(request)

    class TimedPort(RuntimePort):
        def handle(
            self, inbound: Inbound, *, lease: ReplyLease | None = None, finishes: int | None = None
        ) -> Turned:
            turned = super().handle(inbound, lease=lease, finishes=finishes)
            start = arrived.get()
            if start is not None:
                turns.append((inbound.channel, (time.perf_counter() - start[0]) * 1000, start[1]))
            return turned

    def stop() -> None:
        Path(config["turns"]).write_text(json.dumps(turns), encoding="utf-8")
        raise SystemExit(0)

    config = json.loads(Path(config_file).read_text(encoding="utf-8"))
    settings = Settings(
        slack_bot_token=SLACK_TOKEN,
        slack_signing_secret=SLACK_SECRET,
        slack_team_id=config["team"],
        slack_api_url=config["slack_api"],
        microsoft_app_id=config["app_id"],
        microsoft_app_password="bench-only-password",
        microsoft_app_tenant_id=config["tenant"],
        HAMPSHIRE_TEAMS_SDK=config["teams_sdk"],
    )
    options: dict[str, Any] = {}
    if config.get("schema"):
        options["connect_args"] = {"options": f"-csearch_path={config['schema']}"}
    engine = make_engine(config["db"], data_key=config.get("data_key"), **options)
    runtime = build_runtime(settings, engine=engine, migrate=config["migrate"])

    async def main() -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop)
        app = web.Application(middlewares=[stamp])
        app[RUNTIME] = runtime
        add_health(app, runtime.engine)
        app.on_startup.append(freeze_startup_heap)  # as the real server does (bot.app)
        port = TimedPort(runtime)
        teams = TeamsOptions(
            openid_metadata_url=config["metadata"],
            service_origins=frozenset({config["origin"]}),
            outbound_token=OUTBOUND,
        )
        add_teams_routes(app, port, settings, clock=runtime.clock, options=teams)
        add_slack_routes(app, port, settings, clock=runtime.clock)
        await _listen(app)

    with asyncio.Runner(loop_factory=new_event_loop) as runner:  # the real server's loop (bot.app)
        runner.run(main())


def serve_null(config_file: str) -> None:
    """The baseline: the same HTTP exchanges as the bot's with no bot behind them (see the docstring)."""
    import asyncio

    import aiohttp
    from aiohttp import web

    from bot.app import new_event_loop

    config = json.loads(Path(config_file).read_text(encoding="utf-8"))

    async def main() -> None:
        session = aiohttp.ClientSession()
        posting: set[asyncio.Task[None]] = set()

        async def post(url: str, body: dict[str, Any], token: str) -> None:
            async with session.post(url, json=body, headers={"Authorization": f"Bearer {token}"}) as answer:
                await answer.read()

        async def slack(request: web.Request) -> web.Response:
            event = (await request.json())["event"]
            reply = {"channel": event["user"], "text": "baseline"}
            task = asyncio.ensure_future(post(config["slack_api"] + "chat.postMessage", reply, SLACK_TOKEN))
            posting.add(task)  # answered after the acknowledgement, as the bot's are
            task.add_done_callback(posting.discard)
            return web.Response(status=200)

        async def teams(request: web.Request) -> web.Response:
            activity = await request.json()
            base = activity["serviceUrl"].rstrip("/")
            url = f"{base}/v3/conversations/{activity['conversation']['id']}/activities/{activity['id']}"
            await post(url, {"type": "message", "text": "baseline"}, OUTBOUND)
            return web.Response(status=200)

        app = web.Application()
        app.router.add_post("/slack/events", slack)
        app.router.add_post("/api/messages", teams)
        await _listen(app)

    with asyncio.Runner(loop_factory=new_event_loop) as runner:  # on the bot's loop, as a floor should be
        runner.run(main())


# --- the run --------------------------------------------------------------------------------------


#: The most instances a configuration runs (PostgreSQL x2).
MOST_INSTANCES = 2
#: What `--only` chooses from: one instance on SQLite, one and two on PostgreSQL.
CONFIGURATIONS = ("sqlite", "postgresql-x1", f"postgresql-x{MOST_INSTANCES}")
#: A thread's context switches in /proc/<pid>/task/<tid>/status: it gave the CPU up (waiting for a
#: socket, a lock, the GIL) or had it taken away.
_SWITCHES = ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")


def _cpus(instances: int = MOST_INSTANCES) -> tuple[list[set[int]], set[int]] | None:
    """Each instance's CPU and the CPUs for the rest (load, mocks); None when they cannot be split.

    Each instance has a CPU of its own where there are enough (one more than the instances, for
    the load); with fewer, the instances share the first.
    """
    if not hasattr(os, "sched_getaffinity"):
        return None
    mine = sorted(os.sched_getaffinity(0))
    if len(mine) < 2:
        return None
    if len(mine) > instances:
        return [{cpu} for cpu in mine[:instances]], set(mine[instances:])
    return [{mine[0]}] * instances, set(mine[1:])


def _usage(pid: int) -> tuple[float, int] | None:
    """A process's CPU time so far (user plus system seconds) and its threads' context switches
    (voluntary and not), from Linux's /proc; None elsewhere or once it is gone. A thread that has
    ended takes its switches with it (the servers' threads are pooled: few end under load)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        switches = 0
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                status = (task / "status").read_text()
            except OSError:  # a thread that ended meanwhile
                continue
            switches += sum(
                int(line.split()[1]) for line in status.splitlines() if line.split(":")[0] in _SWITCHES
            )
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), switches


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _start_server(
    config: dict[str, Any], folder: Path, name: str, cpus: set[int] | None = None, mode: str = "serve"
) -> tuple[subprocess.Popen[str], str]:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, __file__, mode, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("PORT "):
        process.kill()
        raise SystemExit(f"the {name} server did not start")
    return process, f"http://127.0.0.1:{line.split()[1]}"


def run_configuration(
    label: str, databases: list[dict[str, Any]], rig: Any, args: argparse.Namespace, mode: str = "serve"
) -> dict[str, Any]:
    """Start the instances, drive the load from another process, and measure what came back."""
    folder = Path(tempfile.mkdtemp(prefix="hampshire-load-"))
    servers = []
    split = args.split
    try:
        for number, database in enumerate(databases):
            turns = str(_turns_file(folder, number))
            config = {
                **rig.server_config(),
                **database,
                "migrate": number == 0,
                "turns": turns,
                "teams_sdk": args.teams_sdk,
            }
            cpus = split[0][number] if split else None
            servers.append(_start_server(config, folder, f"{label}-{number}", cpus, mode))
        rig.reset()
        plan = {
            **rig.plan(),
            "hosts": [url for _, url in servers],
            "users": args.users,
            "pace": args.pace,
            "burst": args.burst,
            "seconds": args.seconds,
            "warm_up": args.warm_up,
            "spawn_rate": args.spawn_rate,
            "seed": args.seed,
            "out": str(folder / "requests.json"),
        }
        plan_file = folder / "plan.json"
        plan_file.write_text(json.dumps(plan), encoding="utf-8")
        pids = [process.pid for process, _ in servers]
        with _CpuLog(pids) as cpu:  # to the end of the drain: the work the load left counts too
            subprocess.run(
                [sys.executable, __file__, "drive", str(plan_file)],
                check=True,
                cwd=ROOT,
                preexec_fn=(lambda: os.sched_setaffinity(0, split[1])) if split else None,
            )
            time.sleep(args.drain)  # replies still on their way are given time to arrive (not timed)
        out = json.loads(Path(plan["out"]).read_text(encoding="utf-8"))
        start, requests = out["measure_from"], out["requests"]
        _stop(servers)  # each server writes the turns it timed as it stops
        timed = [turn for number in range(len(servers)) for turn in _timed_turns(folder, number)]
        _match_replies(requests, rig.replies())
        measured = [r for r in requests if not r["warm_up"]]
        result = _measure(label, measured, [(kind, ms) for kind, ms, at in timed if at >= start])
        result["warm"] = _measure(label, [r for r in requests if r["warm_up"]], [
            (kind, ms) for kind, ms, at in timed if at < start
        ])  # fmt: skip
        used, switched = cpu.used(since=start)
        result["cpu_ms"] = 1000 * used / len(measured) if measured else float("nan")
        result["switches"] = switched / len(measured) if measured else float("nan")
        result["rate"] = len(measured) / args.seconds
        return result
    finally:
        _stop(servers)


class _CpuLog:
    """The servers' CPU time and context switches, read every quarter second while the load runs
    (to start the count where the warm-up ends, a moment the load's process decides)."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.samples: list[tuple[float, float, int]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> None:
        usage = [_usage(pid) for pid in self.pids]
        if None not in usage:  # a server gone (or no /proc) would make the sums drop
            found = [u for u in usage if u is not None]
            self.samples.append((time.time(), sum(u[0] for u in found), sum(u[1] for u in found)))

    def _run(self) -> None:
        while not self._done.wait(0.25):
            self._read()

    def __enter__(self) -> _CpuLog:
        self._read()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()
        self._read()

    def used(self, *, since: float) -> tuple[float, float]:
        """CPU seconds the servers used, and their context switches, from the sample nearest
        `since` (epoch) to the last."""
        if not self.samples:
            return float("nan"), float("nan")
        first = min(self.samples, key=lambda sample: abs(sample[0] - since))
        return self.samples[-1][1] - first[1], self.samples[-1][2] - first[2]


def _stop(servers: list[tuple[subprocess.Popen[str], str]]) -> None:
    for process, _ in servers:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:  # stuck: its timings are lost, not the machine's CPU
                process.kill()
                process.wait(30)


def _turns_file(folder: Path, number: int) -> Path:
    """Where server `number` writes the turns it timed, as it stops."""
    return folder / f"turns-{number}.json"


def _timed_turns(folder: Path, number: int) -> list[tuple[str, float, float]]:
    """The turns a server timed (its platform, milliseconds, arrival epoch); none from the baseline."""
    path = _turns_file(folder, number)
    if not path.exists():
        return []
    return [(kind, ms, at) for kind, ms, at in json.loads(path.read_text(encoding="utf-8"))]


def _p50_p99(**platforms: list[float]) -> dict[str, tuple[float, float]]:
    return {name: (_percentile(times, 0.5), _percentile(times, 0.99)) for name, times in platforms.items()}


def _match_replies(requests: list[dict[str, Any]], replies: dict[str, list[float]]) -> None:
    """Give each Slack request the milliseconds its reply took (`reply_ms`; None: it never came).

    A request's reply is the first to reach the user after it and before the user's next request.
    """
    by_user: dict[str, list[dict[str, Any]]] = {}
    for r in requests:
        if r["kind"] == "slack" and r["ok"]:
            by_user.setdefault(r["user"], []).append(r)
    for user, sent in by_user.items():
        arrived = sorted(replies.get(user, []))
        sent.sort(key=lambda r: r["at"])
        for index, request in enumerate(sent):
            until = sent[index + 1]["at"] if index + 1 < len(sent) else float("inf")
            first = next((at for at in arrived if request["at"] <= at < until), None)
            request["reply_ms"] = None if first is None else (first - request["at"]) * 1000


def _measure(label: str, requests: list[dict[str, Any]], timed: list[tuple[str, float]]) -> dict[str, Any]:
    slack = [r for r in requests if r["kind"] == "slack"]
    teams = [r for r in requests if r["kind"] == "teams"]
    errors = sum(not r["ok"] for r in requests)
    # What the errors were: "teams 0" is a request that got no answer (Locust's connection failed).
    failures: dict[str, int] = {}
    for r in requests:
        if not r["ok"]:
            name = f"{r['kind']} {r.get('status', '?')}"
            failures[name] = failures.get(name, 0) + 1
    teams_turns = [r["ms"] for r in teams if r["ok"]]
    answered = [r for r in slack if r["ok"]]
    slack_turns = [r["reply_ms"] for r in answered if r["reply_ms"] is not None]
    acks = [r["ms"] for r in slack]
    answers = slack_turns + teams_turns
    turns = [ms for _, ms in timed]
    return {
        "label": label,
        "requests": len(requests),
        "ack_p50": _percentile(acks, 0.5),
        "ack_p99": _percentile(acks, 0.99),
        "turns": len(turns),
        "turn_p50": _percentile(turns, 0.5),
        "turn_p99": _percentile(turns, 0.99),
        "turns_by_platform": _p50_p99(
            Slack=[ms for kind, ms in timed if kind == "slack"],
            Teams=[ms for kind, ms in timed if kind == "msteams"],
        ),
        "reply_p50": _percentile(answers, 0.5),
        "reply_p99": _percentile(answers, 0.99),
        "replies_by_platform": _p50_p99(Slack=slack_turns, Teams=teams_turns),
        "errors": errors,
        "failures": failures,
        "lost": len(answered) - len(slack_turns),
    }


class Rig:
    """The mocked platforms, on a loop thread in this process."""

    def __init__(self, people: int) -> None:
        from tests.fake_teams import MockConnector, TeamsUser, TokenIssuer, new_guid
        from tests.slack_mock import LoopThread, MockSlack

        self.loop = LoopThread()
        self.slack = MockSlack()
        self.slack.clock = time.time
        self.slack_url = self.loop.run(self.slack.start())
        self.connector = MockConnector()
        self.loop.run(self.connector.start())
        self.tenant = new_guid()
        self.issuer = TokenIssuer(app_id=new_guid())
        self.issuer.start()
        self.slack_users = [f"U{number:06d}" for number in range(people)]
        for user in self.slack_users:
            self.slack.add_user(user, f"pc.slack{user.lower()}@example.police.uk", name=f"PC Slack {user}")
        self.teams_users = [
            TeamsUser(f"PC Teams {number}", f"pc.teams{number}@example.police.uk") for number in range(people)
        ]
        for person in self.teams_users:
            self.connector.add(person, self.tenant)

    def server_config(self) -> dict[str, Any]:
        return {
            "team": self.slack.team,
            "slack_api": self.slack_url,
            "app_id": self.issuer.app_id,
            "tenant": self.tenant,
            "metadata": self.issuer.metadata_url,
            "origin": self.connector.origin,
        }

    def plan(self) -> dict[str, Any]:
        return {
            "team": self.slack.team,
            "slack_users": self.slack_users,
            "teams_users": [{"id": p.id, "name": p.name, "aad": p.aad} for p in self.teams_users],
            "tenant": self.tenant,
            "app_id": self.issuer.app_id,
            "service_url": self.connector.url,
            "token": self.issuer.token(self.connector.url),
        }

    def reset(self) -> None:
        self.slack.calls.clear()
        self.connector.posted.clear()

    def replies(self) -> dict[str, list[float]]:
        """When each Slack user's replies reached the Web API (a DM is posted to the user's id)."""
        found: dict[str, list[float]] = {}
        for call in self.slack.calls_to("chat.postMessage"):
            if call.at is not None:
                found.setdefault(str(call.args.get("channel")), []).append(call.at)
        return found

    def close(self) -> None:
        self.issuer.stop()
        self.loop.run(self.connector.close())
        self.loop.run(self.slack.stop())
        self.loop.close()


def _postgres(url: str) -> dict[str, Any] | None:
    """A fresh schema on the PostgreSQL server at `url`, or None when there is none to reach."""
    from sqlalchemy import create_engine, text

    from store.crypto import new_key

    schema = f"load_{uuid.uuid4().hex[:12]}"
    try:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
    except Exception as error:
        print(f"PostgreSQL not reachable ({type(error).__name__}): its configuration is skipped")
        return None
    # A server database keeps case detail encrypted with a key it is given (a throwaway one here).
    return {"db": url, "schema": schema, "data_key": new_key()}


def _drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=1000, help="concurrent conversations")
    parser.add_argument(
        "--seconds", type=float, default=60, help="how long the measured load runs, per configuration"
    )
    parser.add_argument(
        "--warm-up",
        type=float,
        default=None,
        help="seconds of load before it is measured (default: the pace, so each user's first message: "
        "the people are new to the database and to the instances' caches); timed and printed apart",
    )
    parser.add_argument("--pace", type=float, default=10, help="seconds between one user's messages")
    parser.add_argument(
        "--spawn-rate",
        type=float,
        default=None,
        help="users started a second (default: all at once; each then waits a random phase within "
        "the pace before its first message, so the offered rate is steady from the start)",
    )
    parser.add_argument("--seed", type=int, default=12, help="seeds the users' phases")
    parser.add_argument(
        "--burst",
        type=float,
        default=None,
        help="send every user's first message within this many seconds (performance.md (f): 1,000 in "
        "1 s); the warm-up row is then the burst, with goals of its own; later messages keep the pace",
    )
    parser.add_argument("--drain", type=float, default=30, help="seconds given to replies after the load")
    parser.add_argument(
        "--teams-sdk",
        choices=("botbuilder", "agents"),
        default="botbuilder",
        help="the SDK that carries Teams (HAMPSHIRE_TEAMS_SDK; default: the bot's default, botbuilder)",
    )
    parser.add_argument("--no-pin", action="store_true", help="servers, load and mocks share every CPU")
    parser.add_argument(
        "--only",
        action="append",
        choices=CONFIGURATIONS,
        help="run this configuration (again for several; default: all), e.g. the headroom's "
        "`--pace 5 --only postgresql-x2`; the baseline always runs",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "HAMPSHIRE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    if args.warm_up is None:
        args.warm_up = args.pace
    offered = args.users / args.pace
    if args.spawn_rate is None:
        args.spawn_rate = args.users
    print(f"{args.users} conversations, each a message per {args.pace:g} s ({offered:.0f} turns/s offered)")
    print(f"Teams on {args.teams_sdk}")
    print(
        f"{args.warm_up:g} s of warm-up and {args.seconds:g} s of measured load per configuration, "
        f"then {args.drain:g} s for the last replies"
    )
    # Chosen once, before this process pins itself to the load's CPUs: asked afterwards, the
    # affinity would be those CPUs alone and the servers would run on them too.
    split = args.split = None if args.no_pin else _cpus()
    if split:
        os.sched_setaffinity(0, split[1])  # the mocks' loop runs in this process
        servers = ", ".join(f"CPU {sorted(cpus)}" for cpus in split[0])
        shared = (
            " (sharing one: the machine has too few to give each its own)"
            if len({min(cpus) for cpus in split[0]}) < len(split[0])
            else ""
        )
        print(f"instances on {servers}{shared}; load and mocks on CPU {sorted(split[1])}")
    else:
        print("servers, load and mocks share every CPU")
    rig = Rig((args.users + 1) // 2)
    results = []
    try:
        baseline = run_configuration("baseline", [{}], rig, args, mode="null")
        chosen = args.only or CONFIGURATIONS
        if "sqlite" in chosen:
            folder = Path(tempfile.mkdtemp(prefix="hampshire-load-db-"))
            sqlite = [{"db": f"sqlite:///{folder / 'load.db'}"}]
            results.append(run_configuration("sqlite x1", sqlite, rig, args))
        for instances in (1, MOST_INSTANCES):
            if f"postgresql-x{instances}" not in chosen:
                continue
            # A fresh database each: the second configuration's people are new to it too.
            postgres = _postgres(args.postgres)
            if postgres is None:
                break
            try:
                label = f"postgresql x{instances}"
                results.append(run_configuration(label, [postgres] * instances, rig, args))
            finally:
                _drop_schema(args.postgres, postgres["schema"])
    finally:
        rig.close()
    _report(baseline, results, burst=args.burst)
    if not results:  # every configuration chosen was skipped: nothing was measured
        raise SystemExit("no configuration ran")


def _report(baseline: dict[str, Any], results: list[dict[str, Any]], *, burst: float | None) -> None:
    """Print the table, the ratios and each goal met or not (the burst's too, when there was one)."""
    print(f"{'configuration':<15}{'requests':>9}{'sent/s':>7}{'ack p50':>9}{'ack p99':>9}"
          f"{'turn p50':>10}{'turn p99':>10}{'reply p50':>11}{'reply p99':>11}{'errors':>8}"
          f"{'unanswered':>12}{'CPU/msg':>9}{'switches/msg':>14}")  # fmt: skip
    rows = [(r["label"], r) for r in [baseline, *results]]
    rows += [(f"{r['label']} *", r["warm"]) for r in results]
    for label, r in rows:
        turns = f"{r['turn_p50']:>8.0f}ms{r['turn_p99']:>8.0f}ms" if r["turns"] else f"{'-':>10}{'-':>10}"
        rate = f"{r['rate']:>7.0f}" if "rate" in r else f"{'-':>7}"
        cpu = f"{r['cpu_ms']:>7.1f}ms" if "cpu_ms" in r else f"{'-':>9}"
        switches = f"{r['switches']:>14.0f}" if "switches" in r else f"{'-':>14}"
        replies = f"{r['reply_p50']:>9.0f}ms{r['reply_p99']:>9.0f}ms"
        print(f"{label:<15}{r['requests']:>9}{rate}{r['ack_p50']:>7.0f}ms{r['ack_p99']:>7.0f}ms"
              f"{turns}{replies}{r['errors']:>8}{r['lost']:>12}{cpu}{switches}")  # fmt: skip
    print(
        "turn: from the request reaching the server to the turn committed with its replies queued "
        "(performance.md (f)); reply: from sending to the reply reaching the mock platform"
    )
    print(
        "*: the warm-up, each user's first message (new to the database and to the instances' "
        "caches), timed apart; the rows above and the goals below are the measured load after it"
    )
    print(
        "switches: the servers' threads' context switches a message (/proc: each time a thread gave "
        "up the CPU or had it taken away)"
    )
    sqlite = next((r for r in results if r["label"] == "sqlite x1"), None)
    for other in results:  # x1 against x1 is the databases' ratio; x2 adds a second instance
        if sqlite is not None and other is not sqlite:
            ratio = sqlite["turn_p99"] / other["turn_p99"]
            print(f"SQLite x1 / {other['label']} turn p99 ratio: {ratio:.2f}")
    print(
        f"baseline (the rig's floor): ack p99 {baseline['ack_p99']:.0f} ms, "
        f"reply p50 {baseline['reply_p50']:.0f} ms, reply p99 {baseline['reply_p99']:.0f} ms"
    )
    for r in results:
        print(
            f"{r['label']} over the baseline: reply p50 {r['reply_p50'] / baseline['reply_p50']:.1f}x, "
            f"reply p99 {r['reply_p99'] / baseline['reply_p99']:.1f}x"
        )
    for r in results:
        # Latency is read on the measured load; nothing may fail or go unanswered in either part.
        failures = dict(r["failures"])
        for name, count in r["warm"]["failures"].items():
            failures[name] = failures.get(name, 0) + count
        verdict = [
            f"ack p99 {'<' if r['ack_p99'] < ACK_GOAL else '>='} {ACK_GOAL:.0f} ms",
            f"turn p99 {'<' if r['turn_p99'] < TURN_GOAL else '>='} {TURN_GOAL:.0f} ms",
            f"reply p99 {'<' if r['reply_p99'] < TURN_GOAL else '>='} {TURN_GOAL:.0f} ms",
            f"{r['errors'] + r['warm']['errors']} errors"
            + (f" ({', '.join(f'{k}: {n}' for k, n in failures.items())})" if failures else ""),
            f"{r['lost'] + r['warm']['lost']} unanswered",
        ]
        print(f"{r['label']}: " + ", ".join(verdict))
        if burst:
            warm = r["warm"]
            print(
                f"{r['label']} burst of {warm['requests']} in {burst:g} s: "
                f"ack p99 {'<' if warm['ack_p99'] < BURST_GOAL else '>='} {BURST_GOAL:.0f} ms, "
                f"turn p99 {'<' if warm['turn_p99'] < BURST_GOAL else '>='} {BURST_GOAL:.0f} ms"
            )
        for what in ("turns", "replies"):
            print(
                f"{r['label']} {what} by platform: "
                + ", ".join(
                    f"{name} p50 {p50:.0f} ms p99 {p99:.0f} ms"
                    for name, (p50, p99) in r[f"{what}_by_platform"].items()
                )
            )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "drive":
        drive(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "null":
        serve_null(sys.argv[2])
    else:
        main()
