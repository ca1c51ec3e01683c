"""Benchmark: group commit of the inbox and the reply outbox, against the unbatched path in one run.

N messages arrive at once (asyncio, one process). For each, as the Slack channel does per message:
the inbox insert (`Inbox.store`, before the acknowledgement), the reply claim and the reply
record (`ReplySender.deliver` of a row already queued, sent on a channel that answers at once),
and the inbox delete once done. With `--rate` the messages arrive spread out at that many a second
instead of all at once, and `--turn-ms` stands in for the turn (CPU spent in a thread, as the
router's turn is) between the store and the reply, so that commits meet a loaded process.

The unbatched path is the one before `bot.batching`: every call its own transaction in a thread
(`run_in_executor`). Rounds alternate the two paths (ABAB) on a SQLite file and on PostgreSQL;
printed per database: transactions and process CPU (all threads) per message, wall time per
round, and the batched/unbatched ratios (median of the per-round ratios, with their range).

    .venv/bin/python bench/batching.py [--messages 200] [--rounds 10] [--rate 0] [--turn-ms 0]
        [--postgres URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text

from bot.channels.outbound import Address, Delivery, Found, Pace
from bot.inbox import Inbox
from bot.reminders.ratelimit import Limit
from bot.replies import ReplySender, _Outcome
from dialogs.types import Reply
from store import replies as outbox
from store.db import make_engine, make_sessions, one_statement_engine, upgrade

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEST_DATA_KEY = "yF9yYk0s1eWq3o1m7lq4cU2n5Zs1Xy8vB6tR0pQ3wE4="


class Instant:
    """A channel that takes every message at once (the platform is not what is measured)."""

    name = "slack"
    reads_back = True

    async def send(
        self, address: Address, replies: Sequence[Reply], *, key: str | None = None, pace: Pace | None = None
    ) -> Delivery:
        return Delivery("sent", message_id=key)

    async def lookup(self, address: Address, key: str, *, since: datetime) -> tuple[Found, str | None]:
        return "absent", None

    def limits(self, address: Address) -> Sequence[Limit]:
        return []


def _payload(label: str, number: int) -> dict[str, Any]:
    """A Slack message's stored work, about the size of a real one."""
    return {
        "kind": "turn",
        "id": f"Ev{label}{number:08d}",
        "user": f"U{number % 1000:06d}",
        "team": "T0HAMPSHIRE",
        "surface": "dm",
        "text": "menu",
        "address": {"team": "T0HAMPSHIRE", "user": f"U{number % 1000:06d}", "channel": f"D{number:08d}"},
    }


def _unbatched(inbox: Inbox, sender: ReplySender) -> None:
    """Route the calls the way they ran before group commit: one transaction per call, each in a thread."""

    async def store(item: tuple[str, dict[str, Any]]) -> int | None:
        return await inbox._db(inbox._receive, *item)

    async def complete(item_id: int) -> None:
        await inbox._db(inbox._complete, item_id)

    async def claim(ids: Sequence[int]) -> Any:
        return await asyncio.to_thread(sender._claim, ids)

    async def record(outcome: _Outcome) -> Any:
        return (await asyncio.to_thread(sender._record, [outcome]))[0]

    inbox._receiving.submit = store  # type: ignore[method-assign]
    inbox._completing.submit = complete  # type: ignore[method-assign, assignment]
    sender._claims.submit = claim  # type: ignore[method-assign, assignment]
    sender._records.submit = record  # type: ignore[method-assign, assignment]


class Rig:
    """One database, an inbox and a reply sender on it, and a count of its transactions."""

    def __init__(self, engine: Engine, *, batched: bool, rate: float, turn_ms: float) -> None:
        self.engine = engine
        self.label = "B" if batched else "U"  # the two may share a database: keys of their own
        self.sessions = make_sessions(engine)
        self.commits = 0
        # One-statement work commits on the engine's autocommit twin (store.db.one_statement_engine).
        for each in {engine, one_statement_engine(engine)}:
            event.listen(each, "commit", self._committed)
        self.inbox = Inbox(
            source="slack",
            sessions=self.sessions,
            clock=lambda: NOW,
            process=self._process,
            queue_of=lambda payload: str(payload["user"]),
            redact=lambda payload: {"id": payload["id"]},
        )
        self.sender = ReplySender(
            sessions=self.sessions, clock=lambda: NOW, channel=Instant(), worker="bench"
        )
        if not batched:
            _unbatched(self.inbox, self.sender)
        self.rows: dict[str, int] = {}
        self.rate = rate
        self.turn_ms = turn_ms

    def _committed(self, connection: Any) -> None:
        self.commits += 1

    def _turn(self) -> None:
        end = time.thread_time() + self.turn_ms / 1000
        while time.thread_time() < end:
            pass

    async def _process(self, payload: dict[str, Any], item_id: int) -> bool:
        if self.turn_ms:
            await asyncio.to_thread(self._turn)
        report = await self.sender.deliver([self.rows[payload["id"]]])
        assert report.sent == 1, report
        return False  # the inbox deletes the work (this stand-in turn has no transaction to do it in)

    def queue_replies(self, first: int, count: int) -> None:
        """The turns' reply rows (written by the turn itself, not measured)."""
        with self.sessions.begin() as session:
            for number in range(first, first + count):
                key = f"Ev{self.label}{number:08d}"
                payload = {"replies": [], "address": {"tenant": "T0", "user_id": "U1", "address": {}}}
                self.rows[key] = outbox.queue(
                    session=session, key=f"slack:{key}", channel="slack", payload=payload, now=NOW
                ).id

    async def messages(self, first: int, count: int) -> None:
        """`count` messages at once: stored (then acknowledged), their replies sent, their work deleted."""
        payloads = [_payload(self.label, number) for number in range(first, first + count)]
        if not self.rate:
            stored = await asyncio.gather(*(self.inbox.store(p["id"], p) for p in payloads))
            for item_id, payload in zip(stored, payloads, strict=True):
                assert item_id is not None
                self.inbox.run(item_id, payload["id"], payload)
        else:
            start = time.perf_counter()
            for number, payload in enumerate(payloads):
                await asyncio.sleep(max(0.0, start + number / self.rate - time.perf_counter()))
                self.inbox.spawn(self._arrive(payload))
        await self.inbox.settle()

    async def _arrive(self, payload: dict[str, Any]) -> None:
        item_id = await self.inbox.store(payload["id"], payload)
        assert item_id is not None
        self.inbox.run(item_id, payload["id"], payload)


def _sqlite(folder: Path, label: str) -> Engine:
    engine = make_engine(f"sqlite:///{folder / label}.db")
    upgrade(engine)
    return engine


def _postgres(url: str) -> tuple[Callable[[], Engine], Callable[[], None]] | None:
    """A factory of engines on a fresh schema at `url`, and its clean-up; None when unreachable."""
    schema = f"batching_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(url)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:
        print(f"PostgreSQL not reachable ({type(error).__name__}): skipped")
        return None

    def engine() -> Engine:
        return make_engine(url, data_key=TEST_DATA_KEY, connect_args={"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    upgrade(engine())
    return engine, drop


def _ratio(label: str, batched: list[float], unbatched: list[float]) -> str:
    ratios = sorted(b / u for b, u in zip(batched, unbatched, strict=True))
    return f"{label} {statistics.median(ratios):.2f} (range {ratios[0]:.2f}-{ratios[-1]:.2f})"


def bench(name: str, engines: Callable[[], tuple[Engine, Engine]], args: argparse.Namespace) -> None:
    """Alternate the batched and the unbatched path round by round on one kind of database."""
    messages, rounds = args.messages, args.rounds
    batched_engine, unbatched_engine = engines()
    rigs = {
        batched: Rig(engine, batched=batched, rate=args.rate, turn_ms=args.turn_ms)
        for batched, engine in ((True, batched_engine), (False, unbatched_engine))
    }
    figures: dict[bool, dict[str, list[float]]] = {key: {"tx": [], "cpu": [], "wall": []} for key in rigs}

    async def run() -> None:
        for number in range(rounds + 1):  # round 0 warms up
            for batched in (True, False) if number % 2 else (False, True):
                rig = rigs[batched]
                first = number * messages
                rig.queue_replies(first, messages)
                commits, cpu, wall = rig.commits, time.process_time(), time.perf_counter()
                await rig.messages(first, messages)
                if number:
                    figures[batched]["tx"].append((rig.commits - commits) / messages)
                    figures[batched]["cpu"].append((time.process_time() - cpu) * 1000 / messages)
                    figures[batched]["wall"].append((time.perf_counter() - wall) * 1000)
        for rig in rigs.values():
            await rig.inbox.close()

    asyncio.run(run())
    arrival = f"at {args.rate:g}/s" if args.rate else "at once"
    print(f"\n{name}: {messages} messages {arrival}, turn {args.turn_ms:g} ms, {rounds} rounds (medians)")
    for batched, label in ((False, "unbatched"), (True, "batched")):
        tx, cpu, wall = (statistics.median(figures[batched][key]) for key in ("tx", "cpu", "wall"))
        print(f"  {label:9}  {tx:5.2f} transactions/message  {cpu:6.2f} ms CPU/message  {wall:7.0f} ms/round")
    print(
        "  batched/unbatched: "
        + ", ".join(
            _ratio(label, figures[True][key], figures[False][key])
            for label, key in (("transactions", "tx"), ("CPU", "cpu"), ("wall", "wall"))
        )
    )
    for engine in (batched_engine, unbatched_engine):
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200, help="messages arriving at once (default 200)")
    parser.add_argument("--rounds", type=int, default=10, help="measured rounds each way (default 10)")
    parser.add_argument("--rate", type=float, default=0, help="messages a second (default 0: all at once)")
    parser.add_argument("--turn-ms", type=float, default=0, help="CPU of the stand-in turn (default 0)")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    benches: list[tuple[str, Callable[[], tuple[Engine, Engine]], Callable[[], None] | None]] = []
    folder = Path(tempfile.mkdtemp(prefix="bench-batching-"))
    benches.append(("SQLite file", lambda: (_sqlite(folder, "a"), _sqlite(folder, "b")), None))
    if not args.no_postgres and (postgres := _postgres(args.postgres)) is not None:
        factory, drop = postgres
        benches.append(("PostgreSQL", lambda: (factory(), factory()), drop))
    for name, engines, cleanup in benches:
        try:
            bench(name, engines, args)
        finally:
            if cleanup is not None:
                cleanup()


if __name__ == "__main__":
    main()
