"""`hampshire demo seed`: an invented history of cases, so a newcomer sees a full report at once.

Every case goes through the case service as a real one would (opened, an investigating officer
assigned, decisions recorded, points closed on time, late or not at all), at invented times with
the seasons, days and hours assaults on police tend to follow. People are invented, at
example.police.uk. A demo case's submission key starts with `demo:`; the seed refuses a database
holding any other case, so it never mixes invented cases with real ones. The same seed, start and
end give the same history.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from bot.cases import service
from bot.cases.answers import ReportAnswers
from bot.reports.labels import choice_labels
from dialogs.schema import Pack
from store import cases as case_store
from store.models import Case, Nudge, Person, PlanPoint
from store.people import ensure_person

__all__ = ["DEMO_PREFIX", "DemoRefused", "SeedResult", "seed_demo"]

#: The submission key prefix that marks a demo case.
DEMO_PREFIX = "demo:"
_DOMAIN = "example.police.uk"
_FIRST = (
    "amy",
    "ben",
    "chloe",
    "dev",
    "ella",
    "faisal",
    "grace",
    "harj",
    "isla",
    "jack",
    "kiran",
    "leah",
    "mo",
    "nina",
    "owen",
    "priya",
    "quinn",
    "rosa",
    "sam",
    "tariq",
    "una",
    "vic",
    "will",
    "yasmin",
    "zak",
)
_LAST = (
    "hart",
    "ward",
    "okafor",
    "singh",
    "reid",
    "patel",
    "morgan",
    "khan",
    "lewis",
    "price",
    "evans",
    "shaw",
    "bell",
    "cole",
    "dunn",
    "frost",
    "grant",
    "hale",
    "irwin",
    "jones",
)
_PLACES = (
    "Custody suite",
    "Town centre",
    "Railway station",
    "Hospital A&E",
    "Shopping centre",
    "Football ground",
    "High Street",
    "Bus station",
    "Retail park",
    "Housing estate",
    "Night-time economy area",
    "Motorway services",
)
#: Relative weights: more assaults on summer evenings, weekends and December (the seasonality
#: forces describe); the numbers are the demo's own, not statistics.
_MONTH_WEIGHT = (0.8, 0.75, 0.85, 0.95, 1.05, 1.15, 1.25, 1.2, 1.0, 0.95, 0.95, 1.2)
_WEEKDAY_WEIGHT = (0.85, 0.85, 0.9, 0.95, 1.2, 1.35, 1.1)
_HOUR_WEIGHT = (6, 5, 4, 3, 2, 1, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8, 8, 8, 7)
_KINDS = (("physical_assault", 55), ("spitting", 15), ("verbal_abuse", 20), ("hate_crime", 10))
_STRANDS = (
    ("race", 45),
    ("religion", 15),
    ("sexual_orientation", 15),
    ("transgender", 5),
    ("disability", 8),
    ("sex", 10),
    ("other", 2),
)
_ROLES = (("officer", 80), ("staff", 16), ("volunteer", 4))
_INJURY = {"physical_assault": (("none", 30), ("minor", 45), ("moderate", 18), ("serious", 7))}


class DemoRefused(Exception):
    """The database holds real cases: the demo never writes beside them."""


@dataclass(frozen=True)
class SeedResult:
    """What the seed wrote."""

    cases: int
    points: int
    first: datetime
    last: datetime


def _pick(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _person(rng: random.Random, rank: str) -> str:
    return f"{rank}.{rng.choice(_FIRST)}.{rng.choice(_LAST)}@{_DOMAIN}"


def _occurred(rng: random.Random, since: datetime, until: datetime, tz: ZoneInfo) -> datetime:
    """A time between `since` and `until`, drawn with the seasons, days and hours of the weights."""
    days = max(1, (until - since).days)
    while True:
        day = (since + timedelta(days=rng.randrange(days))).astimezone(tz)
        weight = _MONTH_WEIGHT[day.month - 1] * _WEEKDAY_WEIGHT[day.weekday()]
        if rng.random() * 1.6 < weight:
            break
    hour = rng.choices(range(24), weights=_HOUR_WEIGHT)[0]
    local = day.replace(hour=hour, minute=rng.randrange(60), second=0, microsecond=0)
    return min(local, until - timedelta(hours=3))


def _answers(
    rng: random.Random, pack: Pack, victim: str, occurred: datetime, present: Sequence[str]
) -> ReportAnswers:
    kind = _pick(rng, _KINDS)
    hate = kind == "hate_crime" or (kind == "verbal_abuse" and rng.random() < 0.2)
    injury = _pick(rng, _INJURY.get(kind, (("none", 85), ("minor", 15))))
    hospitalised = injury in ("moderate", "serious") and rng.random() < (0.6 if injury == "serious" else 0.1)
    areas = [a for a in choice_labels(pack, "area") if a != "force_wide"] or list(choice_labels(pack, "area"))
    return ReportAnswers(
        victim_email=victim,
        victim_role=_pick(rng, _ROLES),
        occurred_at=occurred,
        location=rng.choice(_PLACES),
        area=rng.choice(areas),
        kind=kind,
        injury_level=injury,
        suspect_arrested=_pick(rng, (("yes", 45), ("no", 40), ("unknown", 15))),
        welfare_how="Shaken but coping (invented for the demo)",
        welfare_support="Occupational health referral (invented for the demo)",
        welfare_handover="Shift covered (invented for the demo)",
        consent_contact="yes" if rng.random() < 0.7 else "no",
        hate_motivated="yes" if hate else "no",
        hate_strand=_pick(rng, _STRANDS) if hate else None,
        medical_care="hospital" if hospitalised else None,
        hospitalised="yes" if hospitalised else "no",
        colleagues_present=[p for p in present if p != victim],
    )


class _Seeder:
    def __init__(self, pack: Pack, session: Session, rng: random.Random, until: datetime) -> None:
        self.pack, self.session, self.rng, self.until = pack, session, rng, until
        self.people: dict[str, Person] = {}
        self.victims = [_person(rng, "pc") for _ in range(400)]
        self.supervisors = [_person(rng, "sgt") for _ in range(40)]
        self.investigators = [_person(rng, "ds") for _ in range(40)]

    def person(self, email: str, at: datetime) -> Person:
        if email not in self.people:
            name = " ".join(part.capitalize() for part in email.split("@")[0].split(".")[1:])
            self.people[email] = ensure_person(session=self.session, email=email, now=at, display_name=name)
        return self.people[email]

    def victim(self) -> str:
        # A few colleagues are assaulted again and again: a skewed draw makes repeat victims.
        return self.victims[min(int(self.rng.paretovariate(1.2)) - 1, len(self.victims) - 1)]

    def case(self, number: int, occurred: datetime) -> Case:
        rng, pack, session = self.rng, self.pack, self.session
        reported = occurred + timedelta(minutes=rng.randrange(30, 360))
        reporter = self.person(rng.choice(self.supervisors), reported)
        present = rng.sample(self.victims[200:], rng.choice((0, 0, 0, 1, 2)))
        answers = _answers(rng, pack, self.victim(), occurred, present)
        case, _ = service.open_case(
            pack, session=session, answers=answers, reporter=reporter,
            submission_key=f"{DEMO_PREFIX}{number}", surface="demo", now=reported,
        )  # fmt: skip
        self.work(case, reporter, reported)
        return case

    def work(self, case: Case, reporter: Person, reported: datetime) -> None:
        """Assign an officer, record decisions, close points: the case's life up to `until`."""
        rng, pack, session = self.rng, self.pack, self.session
        diligence = rng.choice((0.95, 0.85, 0.7, 0.5))  # some teams keep the plan better than others
        assigned = reported + timedelta(hours=rng.choice((2, 6, 12, 20, 30, 50, 80)))
        io = None
        if assigned < self.until and rng.random() < 0.97:
            io = self.person(rng.choice(self.investigators), assigned)
            service.assign_investigator(pack, session=session, actor=reporter, case=case, investigator=io,
                                        surface="demo", now=assigned)  # fmt: skip
        concluded = reported + timedelta(days=rng.randrange(30, 200))
        if io is not None:
            moment = assigned
            for decision in self.decisions(case):
                moment += timedelta(days=rng.randrange(1, 40))
                if moment >= min(concluded, self.until):
                    break
                service.record_decision(pack, session=session, actor=io, case=case, decision=decision,
                                        decided_at=moment, surface="demo", now=moment)  # fmt: skip
        self.close_points(case, reporter, io, diligence, concluded)
        if concluded < self.until:
            case_store.set_case_fields(session=session, case=case, status="closed", closed_at=concluded)

    def decisions(self, case: Case) -> list[str]:
        rng = self.rng
        steps = ["arrest"] if case.suspect_arrested != "yes" and rng.random() < 0.5 else []
        steps.append("interview")
        ending = rng.random()
        if ending < 0.45:
            steps += ["charge", "court_outcome"]
        elif ending < 0.7:
            steps.append("no_further_action")
        else:
            steps.append("released_under_investigation")
        return steps

    def close_points(
        self, case: Case, reporter: Person, io: Person | None, diligence: float, concluded: datetime
    ) -> None:
        """Close each due point on time, late or not at all, earliest first, until the case ends."""
        rng, pack, session = self.rng, self.pack, self.session
        horizon = min(concluded, self.until)
        left_open: set[int] = set()
        while True:
            point = session.scalars(
                select(PlanPoint)
                .where(
                    PlanPoint.case_id == case.id,
                    PlanPoint.status == "open",
                    PlanPoint.due_at < horizon,
                    PlanPoint.id.not_in(left_open or {0}),
                )
                .order_by(PlanPoint.due_at, PlanPoint.id)
                .limit(1)
            ).first()
            if point is None:
                break
            actor = io if point.owner_role == "io" and io is not None else reporter
            status: Literal["done", "not_applicable"]
            draw = rng.random()
            if draw < 0.04:
                status, at = "not_applicable", point.due_at - timedelta(hours=1)
            elif draw < diligence:
                status, at = "done", point.due_at - timedelta(hours=rng.uniform(0.2, 20))
            elif draw < diligence + (1 - diligence) * 0.7:
                status, at = "done", point.due_at + timedelta(hours=rng.uniform(1, 120))
                self.remind(case, point, actor, late_until=at)
            else:  # left open: reminded, perhaps escalated, still overdue
                self.remind(case, point, actor, late_until=horizon)
                left_open.add(point.id)
                continue
            at = max(at, case.reported_at)
            if at >= self.until:
                left_open.add(point.id)
                continue
            service.close_point(
                pack,
                session=session,
                actor=actor,
                case=case,
                point_id=point.id,
                status=status,
                surface="demo",
                now=at,
                reason="Did not apply (invented for the demo)" if status == "not_applicable" else None,
            )
        if concluded >= self.until:
            return
        # When the case ended, the overdue points were done at last (late) and the rest no longer applied.
        for late in sorted(left_open):
            service.close_point(pack, session=session, actor=self.actor(case, reporter, io, late), case=case,
                                point_id=late, status="done", surface="demo", now=concluded)  # fmt: skip
        still_open = session.scalars(
            select(PlanPoint.id).where(PlanPoint.case_id == case.id, PlanPoint.status == "open")
        ).all()
        for point_id in still_open:
            service.close_point(pack, session=session, actor=reporter, case=case, point_id=point_id,
                                status="not_applicable", surface="demo", now=concluded,
                                reason="Case concluded (invented for the demo)")  # fmt: skip

    def actor(self, case: Case, reporter: Person, io: Person | None, point_id: int) -> Person:
        point = self.session.get(PlanPoint, point_id)
        return io if point is not None and point.owner_role == "io" and io is not None else reporter

    def remind(self, case: Case, point: PlanPoint, owner: Person, *, late_until: datetime) -> None:
        """The reminder sent when the point fell due, and the escalation if it stayed open too long."""
        spec = self.pack.plan.point(point.code)
        sent = point.due_at
        self.session.add(Nudge(
            dedupe_key=f"demo:nudge:{point.id}", kind="nudge", point_id=point.id, case_id=case.id,
            recipient_id=owner.id, due_slot=sent, payload={"reference": case.reference}, status="sent",
            channel="demo", not_before=sent, attempts=1, sent_at=sent, created_at=sent,
        ))  # fmt: skip
        escalate_after = spec.escalate_after_hours if spec is not None else None
        if escalate_after is not None and late_until - point.due_at > timedelta(hours=escalate_after):
            at = point.due_at + timedelta(hours=escalate_after)
            case_store.write_point(session=self.session, point=point, columns={"escalated_at": at})
            self.session.add(Nudge(
                dedupe_key=f"demo:escalation:{point.id}", kind="escalation", point_id=None, case_id=None,
                recipient_id=case.reporter_id, due_slot=at, payload={"cases": [case.reference]},
                status="sent", channel="demo", not_before=at, attempts=1, sent_at=at, created_at=at,
            ))  # fmt: skip


def seed_demo(
    pack: Pack, *, session: Session, cases: int, since: datetime, now: datetime, seed: int = 1
) -> SeedResult:
    """Write `cases` invented cases that happened between `since` and `now`.

    Raises:
        DemoRefused: the database holds a case that is not a demo case.
    """
    real = session.scalar(select(func.count()).where(~Case.submission_key.startswith(DEMO_PREFIX)))
    if real:
        raise DemoRefused(f"the database holds {real} real case(s)")
    rng = random.Random(seed)
    tz = ZoneInfo(pack.meta.timezone)
    seeder = _Seeder(pack, session, rng, now)
    start = session.scalar(select(func.count()).select_from(Case)) or 0
    before = session.scalar(select(func.max(Nudge.id))) or 0
    times = sorted(_occurred(rng, since, now, tz) for _ in range(cases))
    for number, occurred in enumerate(times, start=start + 1):
        seeder.case(number, occurred)
    # The history's own messages (the notices it queued) belong to the past: they were sent then.
    # Only its own: anything else waiting in the outbox (a real reminder) is left to be sent.
    demo_cases = select(Case.id).where(Case.submission_key.startswith(DEMO_PREFIX))
    demo_people = [person.id for person in seeder.people.values()]
    session.execute(
        update(Nudge)
        .where(
            Nudge.id > before,
            Nudge.status.in_(("pending", "held")),
            or_(Nudge.case_id.in_(demo_cases), Nudge.recipient_id.in_(demo_people)),
        )
        .values(status="sent", sent_at=Nudge.not_before, channel="demo")
    )
    points = session.scalar(select(func.count()).select_from(PlanPoint)) or 0
    return SeedResult(
        cases=cases, points=points, first=times[0] if times else since, last=times[-1] if times else now
    )
