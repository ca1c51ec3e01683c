"""Benchmark: the sweep's time and peak memory as the number of stored plan points grows.

For each database (a SQLite file, and PostgreSQL when reachable) two stores are built: one with
10,000 plan points and one with 1,000,000, each with exactly 1,000 points due (the rest are done,
or open and not yet due, as in a force's history). The sweep that queues those 1,000 nudges is
timed on both, interleaved round by round; each measured sweep is rolled back so every round
sees the same state (the sweep groups the nudges into one reminder per case and recipient). Prints
the times, the 1M/10k ratio (target at most 1.5) and the time at 1M
(target under 100 ms), and the peak memory the sweep allocated.

    .venv/bin/python bench/sweep.py [--large 1000000] [--small 10000] [--due 1000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.orm import Session

from bot.reminders.sweep import sweep_batch
from dialogs.loader import load_pack
from dialogs.schema import Pack
from store.crypto import new_key
from store.db import make_engine, upgrade
from store.models import Case, Person, PersonRole, PlanPoint

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
POSTGRES = os.environ.get("HAMPSHIRE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
POINTS_PER_CASE = 16
CHUNK = 20_000


def fill(engine: Engine, pack: Pack, total: int, due: int) -> None:
    """`total` plan points, 16 to a case (the last case may have fewer): `due` of them due now, 5%
    open later, the rest done."""
    codes = [p.code for p in pack.plan.points][:POINTS_PER_CASE]
    cases = max(1, -(-total // POINTS_PER_CASE))  # rounded up, so every point has its case
    open_later = total // 20
    with Session(engine) as session, session.begin():
        session.add(Person(id=1, email="sgt.bench@example.police.uk", created_at=NOW))
        session.add(Person(id=2, email="pc.bench@example.police.uk", created_at=NOW))
        leader = Person(id=3, email="supt.bench@example.police.uk", created_at=NOW)
        leader.roles.append(PersonRole(role="slt", area="coventry"))
        session.add(leader)
    with engine.begin() as connection:
        for start in range(0, cases, CHUNK):
            connection.execute(
                insert(Case), [_case(n) for n in range(start + 1, min(cases, start + CHUNK) + 1)]
            )
        rows = []
        for number in range(total):
            case_id, index = number // POINTS_PER_CASE + 1, number % POINTS_PER_CASE
            if number < due:
                status, wake = "open", NOW - timedelta(minutes=1 + number % 600)
            elif number < due + open_later:
                status, wake = "open", NOW + timedelta(hours=1 + number % 5000)
            else:
                status, wake = "done", None
            rows.append(_point(case_id, codes[index], number // (cases * POINTS_PER_CASE) + 1, status, wake))
            if len(rows) == CHUNK:
                connection.execute(insert(PlanPoint), rows)
                rows = []
        if rows:
            connection.execute(insert(PlanPoint), rows)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()


def _case(number: int) -> dict[str, object]:
    return {
        "id": number,
        "reference": f"OH-2026-{number:06d}",
        "submission_key": f"bench:{number}",
        "kind": "spitting",
        "hate_crime": False,
        "enhanced_rights": False,
        "occurred_at": NOW,
        "reported_at": NOW,
        "location": "-",
        "area": "coventry",
        "injury_level": "none",
        "hospitalised": False,
        "suspect_arrested": "no",
        "victim_id": 2,
        "victim_role": "officer",
        "reporter_id": 1,
        "consent_contact": False,
        "status": "open",
    }


def _point(case_id: int, code: str, instance: int, status: str, wake: datetime | None) -> dict[str, object]:
    return {
        "case_id": case_id,
        "code": code,
        "instance": instance,
        "owner_role": "supervisor",
        "owner_id": 1,
        "due_at": NOW - timedelta(days=1),
        "urgent": False,
        "status": status,
        "nudge_count": 0,
        "remind_at": wake,
        "next_nudge_at": wake,
    }


@contextmanager
def database(kind: str, folder: Path, label: str) -> Iterator[Engine]:
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{folder / f'{label}.db'}")
        yield engine
        engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    # A throwaway schema: a throwaway data key (a server database has no default one).
    engine = make_engine(POSTGRES, data_key=new_key(), connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def measure(engine: Engine, pack: Pack, due: int, *, memory: bool = False) -> float:
    """One sweep of everything due, rolled back: its milliseconds, or its peak bytes allocated.

    Memory is traced in a separate sweep: tracing slows Python several-fold and would swamp the time.
    """
    with Session(engine) as session:
        session.begin()
        if memory:
            tracemalloc.start()
        started = time.perf_counter()
        report = sweep_batch(pack, session=session, now=NOW, batch=due)
        elapsed = (time.perf_counter() - started) * 1000
        if memory:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        session.rollback()
    # Reminders are grouped per case and recipient: fewer messages than points, at least one.
    assert report.points == due and report.queued >= 1, report
    return float(peak) if memory else elapsed


def postgres_reachable() -> bool:
    try:
        with create_engine(POSTGRES).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    pack = load_pack()
    kinds = ["sqlite"] + (["postgresql"] if postgres_reachable() else [])
    if "postgresql" not in kinds:
        print(f"PostgreSQL not reachable at {POSTGRES}: measuring SQLite only")
    with tempfile.TemporaryDirectory() as folder:
        for kind in kinds:
            with (
                database(kind, Path(folder), "small") as small,
                database(kind, Path(folder), "large") as large,
            ):
                for engine, size in ((small, args.small), (large, args.large)):
                    upgrade(engine)
                    started = time.perf_counter()
                    fill(engine, pack, size, args.due)
                    print(f"{kind}: built {size:,} points in {time.perf_counter() - started:.0f} s")
                measure(small, pack, args.due)  # warm caches on both before timing
                measure(large, pack, args.due)
                times: dict[int, list[float]] = {args.small: [], args.large: []}
                peaks: dict[int, int] = {args.small: 0, args.large: 0}
                for _ in range(args.rounds):
                    for engine, size in ((small, args.small), (large, args.large)):
                        times[size].append(measure(engine, pack, args.due))
                for engine, size in ((small, args.small), (large, args.large)):
                    peaks[size] = int(measure(engine, pack, args.due, memory=True))
                large_ms = statistics.median(times[args.large])
                ratios = [b / a for a, b in zip(times[args.small], times[args.large], strict=True)]
                print(f"{kind}: sweep of {args.due:,} due points, median of {args.rounds} interleaved rounds")
                for size in (args.small, args.large):
                    median = statistics.median(times[size])
                    print(f"  {size:>9,} points: {median:7.1f} ms   peak {peaks[size] / 2**20:5.1f} MiB")
                ratio = statistics.median(ratios)
                print(
                    f"  ratio {args.large:,}/{args.small:,}: {ratio:.2f} (target <= 1.5: "
                    f"{'met' if ratio <= 1.5 else 'NOT met'})"
                )
                print(
                    f"  time at {args.large:,}: {large_ms:.1f} ms (target < 100 ms: "
                    f"{'met' if large_ms < 100 else 'NOT met'})"
                )


if __name__ == "__main__":
    main()
