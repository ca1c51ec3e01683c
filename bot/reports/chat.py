"""Reports in chat: "report" (optionally an area and a period) for the SLT and the SPOC, and the
SPOC's weekly summary, both as headline figures with the chart of cases by month.

The figures are the CLI reports' own (`patterns`, `compliance`), for the internal audience; the
chart's numbers travel as data (`dialogs.types.Chart`) and each channel draws the image.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pydantic import JsonValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.reports.compliance import compliance
from bot.reports.labels import choice_labels
from bot.reports.output import format_cell
from bot.reports.patterns import patterns
from bot.reports.scope import Scope
from bot.reports.wording import covering
from dialogs.clock import add_months
from dialogs.schema import Pack
from dialogs.understand import normalise
from store.models import Nudge, Person
from store.people import people_with_role

if TYPE_CHECKING:
    from bot.cases.effects import TurnContext

__all__ = [
    "SUMMARY_KIND",
    "figures",
    "leads",
    "parse_request",
    "queue_weekly_summary",
    "report_figures",
    "summary_due",
]

#: The outbox kind of the SPOC's weekly summary.
SUMMARY_KIND = "report_summary"
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def leads(person: Person) -> tuple[bool, list[str]]:
    """Whether `person` may have figures (SLT or SPOC), and the areas they lead as SLT."""
    roles = [r for r in person.roles if r.role in ("slt", "spoc")]
    return bool(roles), sorted({r.area for r in roles if r.role == "slt" and r.area})


def _period(pack: Pack, said: str, today: date) -> tuple[date, date] | None:
    """The period named in `said` by the pack's words, as (first, last) local dates."""
    for name, words in pack.meta.reports.periods.items():
        if any(re.search(rf"\b{re.escape(normalise(w))}\b", said) for w in words):
            monday = today - timedelta(days=today.weekday())
            month = today.replace(day=1)
            year = today.replace(month=1, day=1)
            return {
                "this_week": (monday, today),
                "last_week": (monday - timedelta(days=7), monday - timedelta(days=1)),
                "this_month": (month, today),
                "last_month": ((month - timedelta(days=1)).replace(day=1), month - timedelta(days=1)),
                "this_year": (year, today),
                "last_year": (year.replace(year=year.year - 1), year - timedelta(days=1)),
            }[name]
    return None


def parse_request(pack: Pack, text: str, *, now: datetime) -> tuple[str | None, date, date]:
    """The area (None: not named) and period a request such as "report coventry last month" names.

    Without a period: the last `reports.months` months up to today.
    """
    said = normalise(text)
    area = None
    for value, label in choice_labels(pack, "area").items():
        if re.search(rf"\b({re.escape(normalise(label))}|{re.escape(value.replace('_', ' '))})\b", said):
            area = value
            break
    today = now.astimezone(ZoneInfo(pack.meta.timezone)).date()
    period = _period(pack, said, today)
    if period is None:
        start = add_months(now, -pack.meta.reports.months, timezone=pack.meta.timezone)
        period = (start.astimezone(ZoneInfo(pack.meta.timezone)).date().replace(day=1), today)
    return area, period[0], period[1]


def figures(
    pack: Pack, *, session: Session, scope: Scope, chart: Scope, now: datetime
) -> dict[str, JsonValue]:
    """The headline figures for `scope` and the months of `chart` (`counts` of cases, `trend`), as JSON.

    Not `cases`: in an outbox payload that key lists the cases a reminder is about.
    """
    shown = patterns(pack, session=session, scope=scope, now=now)
    kept = compliance(pack, session=session, scope=scope, now=now)
    headline: list[JsonValue] = [
        {"label": label, "value": format_cell(value, "share" if isinstance(value, float) else "count")}
        for label, value in (*shown.headline, *kept.headline)
    ]
    monthly = (shown if chart == scope else patterns(pack, session=session, scope=chart, now=now)).table(
        "cases_monthly"
    )
    return {
        "covering": covering(pack, scope),
        "headline": headline,
        "months": [str(m) for m in monthly.column("month")],
        "counts": [c for c in monthly.column("cases") if isinstance(c, int)],
        "trend": [t for t in monthly.column("trend") if isinstance(t, int | float)],
    }


def summary_due(pack: Pack, now: datetime) -> datetime:
    """The latest time the weekly summary was due at or before `now` (pack: weekday and time)."""
    tz = ZoneInfo(pack.meta.timezone)
    local = now.astimezone(tz)
    settings = pack.meta.reports
    hour, minute = map(int, settings.summary_time.split(":"))
    day = local.date() - timedelta(days=(local.weekday() - _WEEKDAYS.index(settings.summary_weekday)) % 7)
    due = datetime.combine(day, time(hour, minute), tz)
    return due if due <= local else due - timedelta(days=7)


def _summary_payload(pack: Pack, *, session: Session, due: datetime, now: datetime) -> dict[str, JsonValue]:
    """What the weekly summary due at `due` says: the week before, force-wide, and the months to it."""
    tz = ZoneInfo(pack.meta.timezone)
    last = due.astimezone(tz).date() - timedelta(days=1)
    first = last - timedelta(days=6)
    start = add_months(
        datetime.combine(last, time(), tz), -pack.meta.reports.months, timezone=pack.meta.timezone
    )
    week = Scope(first=first, last=last, area=None, tz=tz)
    months = Scope(first=start.date().replace(day=1), last=last, area=None, tz=tz)
    return figures(pack, session=session, scope=week, chart=months, now=now)


def queue_weekly_summary(pack: Pack, *, session: Session, now: datetime) -> int:
    """Queue the weekly summary last due (pack: weekday and time) for each SPOC not yet sent it.

    Once per SPOC and week, however many ticks or instances run (the outbox's unique key); the
    figures are worked out only when someone is still to get them.
    """
    from bot.reminders.queue import queue

    due = summary_due(pack, now)
    people = people_with_role(session=session, role="spoc")
    keys = {person.id: f"{SUMMARY_KIND}:{due.isoformat()}:{person.id}" for person in people}
    queued = set(session.scalars(select(Nudge.dedupe_key).where(Nudge.dedupe_key.in_(keys.values()))))
    wanting = [person for person in people if keys[person.id] not in queued]
    if not wanting:
        return 0
    payload = _summary_payload(pack, session=session, due=due, now=now)
    return sum(
        queue(
            pack,
            session=session,
            kind=SUMMARY_KIND,
            recipient=person,
            slot=due,
            payload=payload,
            now=now,
            key=keys[person.id],
        )  # fmt: skip
        for person in wanting
    )


def report_figures(args: dict[str, JsonValue], ctx: TurnContext) -> tuple[str, dict[str, JsonValue]]:
    """The `report_figures` effect: the SLT's and the SPOC's figures; anyone else is refused.

    The SPOC (and a force-wide senior leader) gets the force's or any area's. A senior leader of
    some areas gets only theirs: all of them when they name none, a refusal when they name another.
    """
    allowed, areas = leads(ctx.actor)
    if not allowed:
        return "denied", {}
    area, first, last = parse_request(ctx.pack, str(args.get("request") or ""), now=ctx.now)
    # The SPOC, and a senior leader given no area (`people add --role slt` without one), are force-wide.
    force_wide = any(r.role == "spoc" or (r.role == "slt" and not r.area) for r in ctx.actor.roles)
    if not force_wide and area is not None and area not in areas:
        return "not_their_area", {"area": choice_labels(ctx.pack, "area").get(area, area)}
    scope = Scope(
        first=first, last=last, area=area, tz=ZoneInfo(ctx.pack.meta.timezone),
        areas=() if force_wide else tuple(areas),
    )  # fmt: skip
    return "ok", figures(ctx.pack, session=ctx.session, scope=scope, chart=scope, now=ctx.now)
