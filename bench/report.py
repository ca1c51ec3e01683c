"""Benchmark: the patterns and compliance reports over 100,000 cases on a SQLite file.

Builds a store of invented cases (spread over three years, every kind, area and role, with an
investigating officer assigned, decisions recorded and 8 plan points each, some late, some open)
with Core executemany, then times each report's aggregation (median of the rounds) against a
baseline measured in the same process, round by round: a plain `SELECT count(*)` of the cases in
scope and a `GROUP BY area` over them. Prints the times, the ratios and whether the report took
under the target (a few seconds: 3 s). Charts and files are not timed (they do not grow with the
number of cases).

It also times, as "compliance before", the two passes the compliance report made before each plan
point carried its case's area and time (`_BEFORE`), and prints the report's time as a ratio to
theirs: the before/after figure, measured round by round in the same process.

    .venv/bin/python bench/report.py [--cases 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session

from bot.reports.compliance import compliance
from bot.reports.labels import choice_labels
from bot.reports.patterns import patterns
from bot.reports.scope import Scope
from dialogs.loader import load_pack
from dialogs.schema import Pack
from store.db import make_engine, upgrade
from store.models import Case, CaseEvent, Nudge, Person, PlanPoint

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TARGET_SECONDS = 3.0
CHUNK = 20_000
POINTS = ("crime_recorded", "investigator_assigned", "statement_taken", "victim_updated", "vps_offered",
          "esafety_report", "welfare_contact", "senior_review")  # fmt: skip
PEOPLE = 5_000


def fill(engine: Engine, pack: Pack, cases: int) -> None:
    """`cases` invented cases with their points, events and reminders."""
    rng = random.Random(1)
    areas, kinds = list(choice_labels(pack, "area")), list(choice_labels(pack, "kind"))
    strands, roles = list(choice_labels(pack, "hate_strand")), list(choice_labels(pack, "victim_role"))
    injuries, decisions = list(choice_labels(pack, "injury_level")), list(choice_labels(pack, "decision"))
    with engine.begin() as connection:
        connection.execute(
            insert(Person),
            [
                {"id": i, "email": f"pc.bench{i}@example.police.uk", "created_at": NOW}
                for i in range(1, PEOPLE + 1)
            ],
        )
        case_rows, point_rows, event_rows, nudge_rows = [], [], [], []
        for n in range(1, cases + 1):
            occurred = NOW - timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
            reported = occurred + timedelta(hours=rng.uniform(0.5, 6))
            kind = rng.choice(kinds)
            case_rows.append({
                "id": n, "reference": f"OH-B-{n:07d}", "submission_key": f"bench:{n}", "kind": kind,
                "hate_crime": kind == "hate_crime",
                "hate_strand": rng.choice(strands) if kind == "hate_crime" else None,
                "enhanced_rights": kind == "hate_crime", "occurred_at": occurred, "reported_at": reported,
                "location": f"Place {rng.randrange(400)}", "area": rng.choice(areas),
                "injury_level": rng.choice(injuries), "hospitalised": rng.random() < 0.04,
                "suspect_arrested": rng.choice(("yes", "no", "unknown")),
                "victim_id": rng.randrange(1, PEOPLE + 1),
                "victim_role": rng.choice(roles), "reporter_id": 1, "io_id": 2, "consent_contact": True,
                "status": "open",
            })  # fmt: skip
            assigned = reported + timedelta(hours=rng.uniform(1, 60))
            event_rows.append(
                {"case_id": n, "at": assigned, "actor_id": 1, "kind": "investigator_assigned", "detail": {}}
            )
            if rng.random() < 0.5:
                decided = reported + timedelta(days=rng.uniform(1, 60))
                detail = {"decision": rng.choice(decisions)}
                event_rows.append(
                    {
                        "case_id": n,
                        "at": decided,
                        "actor_id": 2,
                        "kind": "decision_recorded",
                        "detail": detail,
                    }
                )
            for code in POINTS:
                due = reported + timedelta(hours=rng.choice((1, 24, 72, 168, 672)))
                draw = rng.random()
                status = "open" if draw < 0.08 else "not_applicable" if draw < 0.12 else "done"
                done = due + timedelta(hours=rng.uniform(-20, 60)) if status == "done" else None
                point_rows.append({
                    "case_id": n, "code": code, "instance": 1, "owner_role": "supervisor", "owner_id": 1,
                    "due_at": due, "urgent": False, "status": status, "done_at": done, "nudge_count": 0,
                    "escalated_at": due + timedelta(hours=24) if draw < 0.05 else None,
                    "case_area": case_rows[-1]["area"], "case_occurred_at": occurred,
                })  # fmt: skip
            if rng.random() < 0.3:
                nudge_rows.append({
                    "dedupe_key": f"bench:{n}", "kind": "nudge", "case_id": n, "recipient_id": 1,
                    "due_slot": reported, "payload": {}, "status": "sent", "not_before": reported,
                    "attempts": 1, "sent_at": reported, "created_at": reported,
                })  # fmt: skip
            if len(point_rows) >= CHUNK or n == cases:  # cases first: the others refer to them
                for table, rows in ((Case, case_rows), (PlanPoint, point_rows), (CaseEvent, event_rows),
                                    (Nudge, nudge_rows)):  # fmt: skip
                    if rows:
                        connection.execute(insert(table), rows)
                        rows.clear()


#: The compliance report's two passes as they were before each plan point carried its case's area
#: and time: every point joined to its case, once for the figures and once for the lateness, which
#: grouped by the tenth in SQL (so sorted every late point). `INDEXED BY` keeps the plans SQLite
#: chose then, before the compliance index existed.
_BEFORE = (
    """SELECT pp.code, c.area,
        count(*) FILTER (WHERE pp.status != 'not_applicable' AND (pp.due_at <= :now OR pp.status = 'done')),
        count(*) FILTER (WHERE pp.status = 'done' AND pp.done_at <= pp.due_at),
        count(*) FILTER (WHERE pp.status = 'open'),
        count(*) FILTER (WHERE pp.escalated_at IS NOT NULL),
        count(*) FILTER (WHERE pp.status = 'open' AND pp.due_at < :now)
    FROM plan_point AS pp INDEXED BY sqlite_autoindex_plan_point_1 JOIN "case" AS c ON c.id = pp.case_id
    GROUP BY pp.code, c.area""",
    """SELECT code, area, CAST(round(hours * 10) AS INTEGER) AS tenth, count(*) FROM (
        SELECT pp.code AS code, c.area AS area, (julianday(pp.done_at) - julianday(pp.due_at)) * 24.0 AS hours
        FROM plan_point AS pp INDEXED BY ix_plan_point_status_case_id_due_at
        JOIN "case" AS c ON c.id = pp.case_id
        WHERE pp.status = 'done' AND pp.done_at > pp.due_at
    ) WHERE hours IS NOT NULL GROUP BY code, area, tenth""",
)


def compliance_before(session: Session) -> None:
    """The compliance report's two joined passes as they were (`_BEFORE`), over every case."""
    now = NOW.replace(tzinfo=None).isoformat(sep=" ")
    for query in _BEFORE:
        session.execute(text(query), {"now": now}).all()


def _time(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pack = load_pack()
    tz = ZoneInfo(pack.meta.timezone)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)
        built = _time(lambda: fill(engine, pack, args.cases))
        print(f"built {args.cases:,} cases ({args.cases * len(POINTS):,} plan points) in {built:.1f} s")
        scope = Scope(first=None, last=None, area=None, tz=tz)
        timings: dict[str, list[float]] = {
            "count": [],
            "group by area": [],
            "patterns": [],
            "compliance": [],
            "compliance before": [],
        }
        with Session(engine) as session:
            for _ in range(args.rounds):
                timings["count"].append(
                    _time(lambda: session.scalar(select(func.count()).where(scope.cases())))
                )
                timings["group by area"].append(
                    _time(lambda: session.execute(select(Case.area, func.count()).group_by(Case.area)).all())
                )
                timings["patterns"].append(
                    _time(lambda: patterns(pack, session=session, scope=scope, now=NOW))
                )
                timings["compliance"].append(
                    _time(lambda: compliance(pack, session=session, scope=scope, now=NOW))
                )
                timings["compliance before"].append(_time(lambda: compliance_before(session)))
        engine.dispose()
    medians = {name: statistics.median(values) for name, values in timings.items()}
    base = medians["count"]
    for name, value in medians.items():
        print(f"{name:>17}: {value * 1000:9.1f} ms   ratio to count(*): {value / base:8.1f}")
    for name in ("patterns", "compliance"):
        seconds = medians[name]
        verdict = "met" if seconds < TARGET_SECONDS else "NOT met"
        target = f"target < {TARGET_SECONDS:.0f} s"
        print(f"{name} over {args.cases:,} cases: {seconds:.2f} s ({target}): {verdict}")
    after, before = medians["compliance"], medians["compliance before"]
    print(
        f"compliance now / its two joined passes before: {after / before:.2f} ({before / after:.1f}x as fast)"
    )


if __name__ == "__main__":
    main()
