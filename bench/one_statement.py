"""Benchmark: work that is one statement, committed by itself on PostgreSQL, against transactions.

Outside its turn, each message's work is a few statements, each alone in its transaction: the
inbox insert before the acknowledgement, the reply's claim and its outcome, the inbox delete of
work done without a turn. On PostgreSQL a transaction costs two round trips besides its statement
(psycopg sends `BEGIN` before the first statement and waits for it, then `COMMIT`), and
`store.db.one_statement_sessions` runs them in autocommit instead. This drives bench/batching.py's
rig (`Inbox` and `ReplySender`, group commit on, messages arriving at `--rate` a second) both ways
on PostgreSQL, rounds alternating (ABAB): the sessions as they are, and the transactional
sessions put back in their place (the baseline). Printed: process CPU per message, wall time per
round, the ratios to the baseline (median of the per-round ratios, with their range), and the
goal: less CPU a message alone.
SQLite is not run: its one-statement sessions are its transactions (`BEGIN IMMEDIATE` takes its
write lock, and a statement there is a call, not a round trip).

    .venv/bin/python bench/one_statement.py [--messages 200] [--rounds 10] [--rate 200] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # beside bench/batching.py

from batching import Rig, _postgres, _ratio  # noqa: E402


def _in_transactions(rig: Rig) -> Rig:
    """The baseline: every one-statement session replaced by the transactional one it came from."""
    rig.inbox._one_statement = rig.inbox.sessions
    rig.sender._one_statement = rig.sender.sessions
    return rig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200, help="messages a round (default 200)")
    parser.add_argument("--rounds", type=int, default=10, help="measured rounds each way (default 10)")
    parser.add_argument("--rate", type=float, default=200, help="messages a second (default 200)")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    postgres = _postgres(args.postgres)
    if postgres is None:
        return
    engines, drop = postgres
    rigs: dict[str, Rig] = {}
    try:
        rigs["alone"] = Rig(engines(), batched=True, rate=args.rate, turn_ms=0)
        rigs["transactions"] = _in_transactions(Rig(engines(), batched=True, rate=args.rate, turn_ms=0))
        rigs["transactions"].label = "T"  # one database: keys of their own
        figures: dict[str, dict[str, list[float]]] = {name: {"cpu": [], "wall": []} for name in rigs}

        async def run() -> None:
            for number in range(args.rounds + 1):  # round 0 warms up
                for name in ("alone", "transactions") if number % 2 else ("transactions", "alone"):
                    rig, first = rigs[name], number * args.messages
                    rig.queue_replies(first, args.messages)
                    cpu, wall = time.process_time(), time.perf_counter()
                    await rig.messages(first, args.messages)
                    if number:
                        figures[name]["cpu"].append((time.process_time() - cpu) * 1000 / args.messages)
                        figures[name]["wall"].append((time.perf_counter() - wall) * 1000)
            for rig in rigs.values():
                await rig.inbox.close()

        asyncio.run(run())
    finally:
        for rig in rigs.values():
            rig.engine.dispose()
        drop()
    print(f"PostgreSQL: {args.messages} messages at {args.rate:g}/s, {args.rounds} rounds (medians)")
    for name in ("transactions", "alone"):
        cpu, wall = (statistics.median(figures[name][key]) for key in ("cpu", "wall"))
        print(f"  {name:12}  {cpu:6.3f} ms CPU/message  {wall:7.0f} ms/round")
    print(
        "  alone/transactions: "
        + ", ".join(
            _ratio(label, figures["alone"][key], figures["transactions"][key])
            for label, key in (("CPU", "cpu"), ("wall", "wall"))
        )
    )
    alone, transactions = figures["alone"]["cpu"], figures["transactions"]["cpu"]
    cpu = statistics.median(a / t for a, t in zip(alone, transactions, strict=True))
    print(f"  goal: less CPU a message alone (ratio < 1): {'met' if cpu < 1 else 'not met'}")


if __name__ == "__main__":
    main()
