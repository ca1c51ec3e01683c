"""A seeded invented history and its figures worked out in Python, row by row, apart from the SQL.

The reports aggregate in the database; these helpers read the same rows through the ORM and count
them with plain Python (zoneinfo for local time, `statistics.median`), so a report test compares
two independent computations.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cases import service
from bot.cases.answers import ReportAnswers
from bot.reports.demo import seed_demo
from bot.reports.scope import Scope
from dialogs.schema import Pack
from store.models import Case, CaseEvent, Nudge, Person, PlanPoint
from store.people import ensure_person

#: When the seeded history ends ("now" for the reports), and where it starts.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SINCE = datetime(2025, 3, 1, tzinfo=UTC)
TZ = ZoneInfo("Europe/London")


def seed(pack: Pack, session: Session, cases: int = 45, seed_value: int = 7) -> None:
    """The invented history the report tests count."""
    seed_demo(pack, session=session, cases=cases, since=SINCE, now=NOW, seed=seed_value)
    session.flush()


def open_case(
    pack: Pack,
    session: Session,
    *,
    occurred: datetime,
    key: str,
    reporter: Person | None = None,
    **answers: object,
) -> Case:
    """One real (not demo) case of spitting at PC Amy Hart in Coventry, reported when it happened."""
    reporter = reporter or ensure_person(
        session=session, email="sgt.ravi.kaur@example.police.uk", now=occurred
    )
    report = ReportAnswers.model_validate(
        {
            "victim_email": "pc.amy.hart@example.police.uk", "victim_role": "officer",
            "occurred_at": occurred,
            "location": "Broad Street", "area": "coventry", "kind": "spitting", "injury_level": "none",
            "suspect_arrested": "no", "welfare_how": "Shaken", "welfare_support": "A call",
            "welfare_handover": "None", "consent_contact": "no", "hate_motivated": "no", **answers,
        }
    )  # fmt: skip
    case, _ = service.open_case(pack, session=session, answers=report, reporter=reporter, submission_key=key,
                                surface="test", now=occurred)  # fmt: skip
    return case


def scope(
    first: date | None = None, last: date | None = None, area: str | None = None, **kw: object
) -> Scope:
    return Scope(first=first, last=last, area=area, tz=TZ, **kw)  # type: ignore[arg-type]


def cases_in(session: Session, s: Scope) -> list[Case]:
    """The cases in scope, chosen in Python."""
    chosen = []
    for case in session.scalars(select(Case)):
        local = case.occurred_at.astimezone(TZ).date()
        if s.first and local < s.first or s.last and local > s.last or s.area and case.area != s.area:
            continue
        chosen.append(case)
    return chosen


def hours(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() / 3600


def expected_patterns(pack: Pack, session: Session, s: Scope) -> dict[str, object]:
    """The patterns report's figures for scope `s`, counted in Python."""
    cases = cases_in(session, s)
    ids = {c.id for c in cases}
    local = [c.occurred_at.astimezone(TZ) for c in cases]
    decided: dict[str, set[int]] = {}
    first_io: dict[int, datetime] = {}
    for event in session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(ids))):
        if event.kind == "decision_recorded":
            decided.setdefault(event.detail["decision"], set()).add(event.case_id)
        if event.kind == "investigator_assigned":
            first_io[event.case_id] = min(event.at, first_io.get(event.case_id, event.at))
    updates = {spec.code for spec in pack.plan.points if spec.updates_victim}
    first_update: dict[int, datetime] = {}
    for point in session.scalars(select(PlanPoint).where(PlanPoint.case_id.in_(ids))):
        if point.code in updates and point.status == "done" and point.done_at is not None:
            first_update[point.case_id] = min(point.done_at, first_update.get(point.case_id, point.done_at))
    by_id = {c.id: c for c in cases}
    victims = Counter(c.victim_id for c in cases)
    repeat = {v: n for v, n in victims.items() if n > 1}
    places = Counter(c.location.strip().lower() for c in cases)
    return {
        "total": len(cases),
        "months": Counter(f"{t:%Y-%m}" for t in local),
        "kinds": Counter(c.kind for c in cases),
        "areas": Counter(c.area for c in cases),
        "roles": Counter(c.victim_role for c in cases),
        "injuries": Counter(c.injury_level for c in cases),
        "strands": Counter(c.hate_strand for c in cases if c.hate_crime),
        "hospital": Counter("yes" if c.hospitalised else "no" for c in cases),
        "heat": Counter((t.weekday(), t.hour) for t in local),
        "repeat": (len(repeat), sum(repeat.values())),
        "decided": {k: len(v) for k, v in decided.items()},
        "arrested": sum(1 for c in cases if c.suspect_arrested == "yes"),
        "to_io": [hours(by_id[i].reported_at, t) for i, t in first_io.items()],
        "to_update": [hours(by_id[i].reported_at, t) for i, t in first_update.items()],
        "places": places,
    }


def expected_compliance(pack: Pack, session: Session, s: Scope, now: datetime) -> dict[str, object]:
    """The compliance report's figures for scope `s` at `now`, counted in Python."""
    cases = {c.id: c for c in cases_in(session, s)}
    per_point: dict[str, list[int]] = {}
    per_area: dict[str, list[int]] = {}
    late: dict[str, list[float]] = {}
    overdue = 0
    for point in session.scalars(select(PlanPoint).where(PlanPoint.case_id.in_(cases))):
        area = cases[point.case_id].area
        for key, table in ((point.code, per_point), (area, per_area)):
            figures = table.setdefault(key, [0, 0, 0, 0])
            counted = point.status != "not_applicable"
            done = point.status == "done" and point.done_at is not None
            figures[0] += counted and (point.due_at <= now or done)
            figures[1] += done and point.done_at <= point.due_at  # type: ignore[operator]
            figures[2] += point.status == "open"
            figures[3] += point.escalated_at is not None
        if point.status == "done" and point.done_at is not None and point.done_at > point.due_at:
            late.setdefault(point.code, []).append(hours(point.due_at, point.done_at))
        overdue += point.status == "open" and point.due_at < now
    in_area = {c.id for c in session.scalars(select(Case)) if c.area == s.area}
    sent = Counter(
        n.kind
        for n in session.scalars(select(Nudge).where(Nudge.status == "sent"))
        if n.sent_at is not None
        and (s.start is None or n.sent_at >= s.start)
        and (s.end is None or n.sent_at < s.end)
        and (s.area is None or n.case_id in in_area)
    )
    return {
        "per_point": per_point,
        "per_area": per_area,
        "late": {code: statistics.median(values) for code, values in late.items()},
        "overdue": overdue,
        "sent": sent,
    }
