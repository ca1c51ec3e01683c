"""Benchmark: turns through the router on a SQLite file, against in-memory SQLite in the same run.

Runs the full report flow (about 20 turns, ending with a case opened) N times per database,
interleaving the two databases round by round so drift on a shared machine hits both alike.
Prints turns per second and p50/p99 per turn for each, and the file/memory ratios (median of the
per-round ratios). Target: p99 under 20 ms per turn on the SQLite file, on a 2-core machine.

    .venv/bin/python bench/turns.py [--reports 200] [--rounds 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.channels.inbound import Inbound
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from store.db import make_engine

REPORT = [
    "report assault",
    "{victim}",
    "yes",
    "officer",
    "yesterday 10pm",
    "Broad Street",
    "coventry",
    "physical",
    "no",
    "moderate",
    "Bruised ribs",
    "hospital",
    "yes",
    "no",
    "20/123456/26",
    "none",
    "Shaken",
    "A few days off",
    "none",
    "yes",
    "confirm",
]


class StepClock:
    """A clock that moves one second per reading, so every turn has its own time."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def runtime_for(url: str) -> Runtime:
    return build_runtime(Settings(), clock=StepClock(), engine=make_engine(url))


def report(runtime: Runtime, number: int, label: str) -> list[float]:
    """One whole report; returns each turn's latency in milliseconds."""
    email = f"sgt.bench.{label}{number}@example.police.uk"
    victim = f"pc.bench.{label}{number}@example.police.uk"
    timings = []
    for text in REPORT:
        inbound = Inbound(
            channel="console", tenant="", user_id=email, email=email, text=text.format(victim=victim)
        )
        start = time.perf_counter_ns()
        replies = runtime.router.handle(inbound)
        timings.append((time.perf_counter_ns() - start) / 1e6)
    assert replies[0].key == "strings.case_opened", replies[0].key
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200, help="reports per database (default 200)")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    args = parser.parse_args()
    per_round = max(1, args.reports // args.rounds)
    with tempfile.TemporaryDirectory() as folder:
        runtimes = {
            "sqlite file": runtime_for(f"sqlite:///{Path(folder) / 'bench.db'}"),
            "sqlite memory": runtime_for("sqlite://"),
        }
        for name, runtime in runtimes.items():  # warm up: imports, caches, the date parser
            report(runtime, -1, name.split()[1])
        samples: dict[str, list[float]] = {name: [] for name in runtimes}
        round_p50: dict[str, list[float]] = {name: [] for name in runtimes}
        seconds: dict[str, float] = dict.fromkeys(runtimes, 0.0)
        for round_number in range(args.rounds):
            for name, runtime in runtimes.items():
                started = time.perf_counter()
                timings: list[float] = []
                for i in range(per_round):
                    timings += report(runtime, round_number * per_round + i, name.split()[1])
                seconds[name] += time.perf_counter() - started
                samples[name] += timings
                round_p50[name].append(statistics.median(timings))
    total = per_round * args.rounds
    print(f"{total} reports x {len(REPORT)} turns per database, {args.rounds} interleaved rounds")
    for name, timings in samples.items():
        rate = len(timings) / seconds[name]
        print(
            f"  {name:14} {rate:8.0f} turns/s   p50 {percentile(timings, 0.5):6.2f} ms"
            f"   p99 {percentile(timings, 0.99):6.2f} ms   max {max(timings):7.2f} ms"
        )
    ratios = [f / m for f, m in zip(round_p50["sqlite file"], round_p50["sqlite memory"], strict=True)]
    p99_ratio = percentile(samples["sqlite file"], 0.99) / percentile(samples["sqlite memory"], 0.99)
    print(f"  file/memory ratio: p50 {statistics.median(ratios):.2f} (median of rounds), p99 {p99_ratio:.2f}")
    p99 = percentile(samples["sqlite file"], 0.99)
    print(f"  target p99 < 20 ms on the SQLite file: {'met' if p99 < 20 else 'NOT met'} ({p99:.2f} ms)")


if __name__ == "__main__":
    main()
