"""Benchmark: what keeping promises at rest costs a turn, against the turn itself in the same run.

Two ratios, each measured in this process:

- encryption: a turn saves its dialog state encrypted and reads it back decrypted; the Fernet work
  for the largest state of the report flow, against the median turn of that flow on a SQLite file;
- the audit chain: appending a hash-chained audit row (lock, last hash, SHA-256, insert) in its own
  transaction, against inserting the same row unchained in its own transaction.

    .venv/bin/python bench/at_rest.py [--reports 20] [--rows 500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bench.turns import REPORT, report, runtime_for  # noqa: E402
from bot.channels.inbound import Inbound  # noqa: E402
from store.audit import GENESIS, AuditEntry, append_audit  # noqa: E402
from store.crypto import keyring_of  # noqa: E402
from store.db import make_sessions  # noqa: E402
from store.models import AccessAudit, DialogStateRow  # noqa: E402

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PENDING = "sgt.bench.pending@example.police.uk"
VICTIM = "pc.bench.pending@example.police.uk"


def entry(index: int) -> AuditEntry:
    return AuditEntry(
        at=NOW,
        person_id=None,
        case_id=None,
        surface="console",
        action="view",
        purpose="case_view",
        detail=str(index),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=20, help="reports through the router (default 20)")
    parser.add_argument("--rows", type=int, default=500, help="audit rows appended each way (default 500)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runtime = runtime_for(f"sqlite:///{Path(folder) / 'bench.db'}")
        report(runtime, -1, "warm")
        turns: list[float] = []
        for number in range(args.reports):
            turns += report(runtime, number, "file")
        # The state of a report about to be confirmed (every answer in it) is the largest a turn saves.
        for text in REPORT[:-1]:
            runtime.router.handle(
                Inbound(
                    channel="console",
                    tenant="",
                    user_id=PENDING,
                    email=PENDING,
                    text=text.format(victim=VICTIM),
                )
            )
        with runtime.sessions() as session:
            states = list(session.scalars(select(DialogStateRow.state)))
        largest = max(states, key=len).encode()
        keyring = keyring_of(runtime.engine)
        crypto: list[float] = []
        for _ in range(1000):
            start = time.perf_counter_ns()
            keyring.decrypt(keyring.encrypt(largest))
            crypto.append((time.perf_counter_ns() - start) / 1e6)

        sessions = make_sessions(runtime.engine)
        chained: list[float] = []
        plain: list[float] = []
        for index in range(args.rows):  # interleaved, so drift on a shared machine hits both alike
            start = time.perf_counter_ns()
            with sessions.begin() as session:
                append_audit(session=session, entries=[entry(index)])
            chained.append((time.perf_counter_ns() - start) / 1e6)
            start = time.perf_counter_ns()
            with sessions.begin() as session:
                # Below the chain's sequence numbers, so the chained appends never see these rows.
                row = {**entry(index).__dict__, "seq": -1 - index, "chain_hash": GENESIS}
                session.execute(insert(AccessAudit), [row])
            plain.append((time.perf_counter_ns() - start) / 1e6)

    turn = statistics.median(turns)
    work = statistics.median(crypto)
    print(f"{args.reports} reports, {len(turns)} turns on a SQLite file; state of {len(largest)} bytes")
    print(f"  turn p50 {turn:.3f} ms; encrypt+decrypt of the state p50 {work:.4f} ms")
    print(f"  encryption/turn ratio: {work / turn:.3f}")
    chain, unchained = statistics.median(chained), statistics.median(plain)
    print(
        f"  audit append p50: chained {chain:.3f} ms, plain {unchained:.3f} ms; ratio {chain / unchained:.2f}"
    )


if __name__ == "__main__":
    main()
