"""Benchmark: directory search at 10,000 entries against the same search over 100, in one run.

Builds two SQLite-file directories (10,000 and 100 invented entries: local branches of the
bundled pack's services, in invented towns) and runs the same 1,000 queries (exact words,
prefixes, typos of one or two letters, several words) through the search the bot runs on each
turn: check the stored revision, then search the in-memory index. The two sizes are interleaved
round by round. Prints p50/p99 per search for each and the 10k/100 ratios; the goal is p99 under
5 ms at 10,000 entries. Also prints what the index cost to build, and the old way (load every
entry, score each in Python) on a few queries for comparison, and the slowest queries (what
makes the p99).

    .venv/bin/python bench/directory.py [--entries 10000] [--small 100] [--queries 1000] [--rounds 10]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dialogs.directory import entry_record, query_words, score
from dialogs.loader import load_pack
from dialogs.schema import Pack
from store.db import make_engine, make_sessions, upgrade
from store.directory import all_entries, search_index, upsert_entries

#: How many of the slowest queries to print.
SLOWEST = 8
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
_ONSETS = ["ash", "brad", "carl", "dun", "elm", "fair", "glen", "hal", "ing", "kings", "lang", "mar"]
_CODAS = ["bridge", "bury", "combe", "field", "ford", "ham", "ley", "mouth", "stead", "ton", "wick"]
_KINDS = ["branch", "office", "team", "hub", "group", "line", "service", "centre"]


def towns(count: int) -> list[str]:
    """Invented town names (no real places, so no one is pointed at a real service)."""
    names = [f"{onset}{coda}".capitalize() for onset in _ONSETS for coda in _CODAS]
    names += [f"{a} {b}" for a in ("North", "South", "East", "West", "Upper", "Lower") for b in names]
    return names[:count]


def directory(pack: Pack, count: int) -> list[dict[str, Any]]:
    """`count` stored entries: the pack's services, repeated per invented town with local words."""
    places = towns(max(1, count // len(pack.directory.entries) + 1))
    records = []
    for number in range(count):
        spec = pack.directory.entries[number % len(pack.directory.entries)]
        town = places[number // len(pack.directory.entries)]
        kind = _KINDS[number % len(_KINDS)]
        local = spec.model_copy(
            update={
                "key": f"{spec.key}_{number}",
                "name": f"{spec.name} {town} {kind}",
                "description": f"{spec.description} Covers {town} and nearby stations.",
                "synonyms": [*spec.synonyms, town.lower()],
            }
        )
        records.append(entry_record(local))
    return records


def typo(word: str, rng: random.Random) -> str:
    """`word` with one letter dropped, doubled or swapped with the next."""
    if len(word) < 5:
        return word
    at = rng.randrange(1, len(word) - 2)
    kind = rng.choice(("drop", "double", "swap"))
    if kind == "drop":
        return word[:at] + word[at + 1 :]
    if kind == "double":
        return word[:at] + word[at] + word[at:]
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def queries(pack: Pack, count: int, seed: int = 7) -> list[str]:
    """Exact words, prefixes, typos and several words, drawn from the pack and the invented towns."""
    rng = random.Random(seed)
    words = sorted({w for e in pack.directory.entries for t in (e.name, *e.synonyms) for w in query_words(t)})
    places = [t.lower() for t in towns(200)]
    made = []
    for number in range(count):
        word = rng.choice(words)
        kind = number % 4
        if kind == 0:
            made.append(word)
        elif kind == 1:
            made.append(word[: max(3, len(word) // 2)])
        elif kind == 2:
            made.append(f"{typo(word, rng)} {typo(rng.choice(words), rng)}")
        else:
            made.append(f"{word} {rng.choice(places)}")
    return made


def store(folder: Path, name: str, records: list[dict[str, Any]]) -> Engine:
    engine = make_engine(f"sqlite:///{folder / name}")
    upgrade(engine)
    with Session(engine) as session, session.begin():
        upsert_entries(session=session, entries=records, origin="import", now=NOW)
    return engine


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    run()
    return (time.perf_counter_ns() - start) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000, help="entries in the large directory")
    parser.add_argument("--small", type=int, default=100, help="entries in the baseline directory")
    parser.add_argument("--queries", type=int, default=1000, help="queries per round (default 1000)")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    args = parser.parse_args()
    pack = load_pack()
    categories = {c.id: [c.label, *c.synonyms] for c in pack.directory.categories}
    asked = queries(pack, args.queries)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        engines = {
            "large": store(folder, "large.db", directory(pack, args.entries)),
            "small": store(folder, "small.db", directory(pack, args.small)),
        }
        sessions = {size: make_sessions(engine) for size, engine in engines.items()}

        limit = pack.meta.directory_page_size + 1  # the bot's first page, and whether there is more

        def search(size: str, query: str) -> object:
            with sessions[size].begin() as session:
                return search_index(session=session, categories=categories).search(query, limit=limit)

        built = {size: timed(lambda size=size: search(size, "warm up")) for size in engines}
        samples: dict[str, list[float]] = {size: [] for size in engines}
        #: per query, its searches at the large size: which shapes make the p99
        by_query: dict[str, list[float]] = {}
        round_ratios: list[float] = []
        for _ in range(args.rounds):
            p50 = {}
            for size in engines:
                timings = [timed(lambda size=size, q=q: search(size, q)) for q in asked]  # type: ignore[misc]
                samples[size] += timings
                if size == "large":
                    for query, took in zip(asked, timings, strict=True):
                        by_query.setdefault(query, []).append(took)
                p50[size] = statistics.median(timings)
            round_ratios.append(p50["large"] / p50["small"])

        with sessions["large"].begin() as session:
            started = time.perf_counter()
            entries = all_entries(session=session)
            loaded = (time.perf_counter() - started) * 1000
        old = [
            timed(lambda q=q: [score(e, query_words(q), categories) for e in entries]) + loaded
            for q in asked[:8]
        ]

    total = args.queries * args.rounds
    print(f"directory search, {total} searches per size in {args.rounds} interleaved rounds")
    for size, count in (("large", args.entries), ("small", args.small)):
        values = samples[size]
        print(
            f"  {count:6} entries  p50 {percentile(values, 0.5):6.2f} ms"
            f"  p99 {percentile(values, 0.99):6.2f} ms"
            f"  max {max(values):6.2f} ms  (first search, building the index: {built[size]:7.1f} ms)"
        )
    p99 = percentile(samples["large"], 0.99)
    p99_ratio = p99 / percentile(samples["small"], 0.99)
    print(
        f"  {args.entries}/{args.small} ratio: p50 {statistics.median(round_ratios):.2f} (median of rounds)"
    )
    print(f"  {args.entries}/{args.small} ratio: p99 {p99_ratio:.2f}")
    # By median over the rounds: a query's cost, not a pause of the machine that fell on it.
    slowest = sorted(((statistics.median(t), max(t), q) for q, t in by_query.items()), reverse=True)
    print(f"  slowest queries at {args.entries} (median and max of their searches):")
    for median, most, query in slowest[:SLOWEST]:
        print(f"    {median:6.2f} ms  max {most:6.2f} ms  {query!r} ({len(query_words(query))} words)")
    print(f"  old way (load all, score each) at {args.entries}: median {statistics.median(old):7.1f} ms")
    print(f"  goal p99 < 5 ms at {args.entries} entries: {'met' if p99 < 5 else 'NOT met'} ({p99:.2f} ms)")


if __name__ == "__main__":
    main()
