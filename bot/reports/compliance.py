"""The compliance report: each plan point done on time or not, by point and by area; the Victims'
Code clocks; and the reminders and escalations the bot sent to keep the plan.

A point counts as due once its due time has passed or it is done; a point marked not applicable
is not counted. On time means done by its due time. Lateness is measured over points done late.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from bot.reports.labels import choice_labels
from bot.reports.patterns import victim_update_codes
from bot.reports.scope import Scope
from bot.reports.sql import Dialect, Histogram, histograms, median, merged
from bot.reports.tables import SMALL, Cell, Column, Report, Table
from bot.reports.visits import visits_table
from bot.reports.wording import covering, finish
from dialogs.schema import Pack
from store.models import Case, Nudge, PlanPoint

__all__ = ["REMINDER_KINDS", "compliance"]

#: Outbox kinds that remind a point's owner (`unassigned` asks the supervisor to assign an IO).
REMINDER_KINDS = ("nudge", "unassigned")


Figures = tuple[int, int, int, int, int]


def _figures(session: Session, where: ColumnElement[bool], now: datetime) -> dict[tuple[str, str], Figures]:
    """Per plan point and area: points due so far, done on time, still open, escalated, overdue.

    One pass over the points, in the order of their compliance index (which holds every column
    read here), and no join: each point carries its case's area and time. Totals by point and by
    area are sums of these.
    """
    counted = PlanPoint.status != "not_applicable"
    due = and_(counted, or_(PlanPoint.due_at <= now, PlanPoint.status == "done"))
    on_time = and_(PlanPoint.status == "done", PlanPoint.done_at <= PlanPoint.due_at)
    overdue = and_(PlanPoint.status == "open", PlanPoint.due_at < now)
    query = (
        select(
            PlanPoint.code,
            PlanPoint.case_area,
            func.count().filter(due),
            func.count().filter(on_time),
            func.count().filter(PlanPoint.status == "open"),
            func.count().filter(PlanPoint.escalated_at.is_not(None)),
            func.count().filter(overdue),
        )
        .where(where)
        .group_by(PlanPoint.code, PlanPoint.case_area)
    )
    return {(row[0], row[1]): tuple(int(n) for n in row[2:]) for row in session.execute(query)}  # type: ignore[misc]


def _lateness(
    session: Session, dialect: Dialect, where: ColumnElement[bool]
) -> dict[tuple[str, str], Histogram]:
    """Per plan point and area: how late the points done late were (hours, in tenths)."""
    late = select(
        PlanPoint.code, PlanPoint.case_area, dialect.hours_between(PlanPoint.due_at, PlanPoint.done_at)
    ).where(where, dialect.likely(PlanPoint.status == "done"), PlanPoint.done_at > PlanPoint.due_at)
    return {(k[0], k[1]): v for k, v in histograms(session, late, groups=2).items()}


def _by(figures: Mapping[tuple[str, str], Figures], index: int) -> dict[str, Figures]:
    """The figures summed over the other key (index 0: by point; 1: by area)."""
    totals: dict[str, list[int]] = {}
    for key, values in figures.items():
        row = totals.setdefault(key[index], [0] * 5)
        for i, value in enumerate(values):
            row[i] += value
    return {key: tuple(values) for key, values in totals.items()}  # type: ignore[misc]


def _late_by(late: Mapping[tuple[str, str], Histogram], index: int) -> dict[str, float]:
    groups: dict[str, list[Histogram]] = {}
    for key, bins in late.items():
        groups.setdefault(key[index], []).append(bins)
    return {key: value for key, parts in groups.items() if (value := median(merged(parts))) is not None}


def _share(on_time: int, due: int) -> float | None:
    return round(on_time / due, 3) if due else None


def _columns(pack: Pack, first: Column) -> tuple[Column, ...]:
    col = pack.text
    return (
        first,
        Column("due", col("strings.report_col_due")),
        Column("on_time", col("strings.report_col_on_time")),
        Column("share_on_time", col("strings.report_col_share_on_time"), "share", base="due"),
        Column("median_late_hours", col("strings.report_col_median_late"), "hours", base="due"),
        Column("open", col("strings.report_col_open")),
        Column("escalated", col("strings.report_col_escalated")),
    )


def _rows(
    order: Mapping[Any, str], figures: Mapping[Any, Figures], late: Mapping[Any, float]
) -> tuple[tuple[Cell, ...], ...]:
    rows = []
    for key, label in order.items():
        due, on_time, still_open, escalated, _ = figures.get(key, (0, 0, 0, 0, 0))
        rows.append((label, due, on_time, _share(on_time, due), late.get(key), still_open, escalated))
    return tuple(rows)


def _messages(pack: Pack, session: Session, scope: Scope, escalated: int) -> Table:
    sent = and_(Nudge.status == "sent", scope.instants(Nudge.sent_at))
    about_area = Nudge.case_id.in_(select(Case.id).where(scope.in_area()))

    def count(*conditions: ColumnElement[bool]) -> int:
        return int(session.scalar(select(func.count()).select_from(Nudge).where(sent, *conditions)) or 0)

    reminders = count(Nudge.kind.in_(REMINDER_KINDS), *([about_area] if scope.limited else []))
    grouped: list[int | None] = (
        [None, None] if scope.limited else [count(Nudge.kind == "escalation"), count(Nudge.kind == "digest")]
    )
    col = pack.text
    return Table(
        id="messages",
        title=col("strings.report_messages"),
        columns=(
            Column("message", col("strings.report_col_message"), "label"),
            Column("sent", col("strings.report_col_sent")),
        ),
        rows=(
            (col("strings.report_msg_reminders"), reminders),
            (col("strings.report_msg_escalations"), grouped[0]),
            (col("strings.report_msg_digests"), grouped[1]),
            (col("strings.report_points_escalated"), escalated),
        ),
        note=col("strings.report_messages_note") if scope.limited else "",
    )


def compliance(pack: Pack, *, session: Session, scope: Scope, now: datetime) -> Report:
    """The compliance report for `scope`, as its audience may see it, with points judged at `now`."""
    dialect = Dialect(session, scope.tz)
    col = pack.text
    titles = {spec.code: spec.title for spec in pack.plan.points}
    figures = _figures(session, scope.points(), now)
    late = _lateness(session, dialect, scope.points())
    by_point, late_point = _by(figures, 0), _late_by(late, 0)
    point_table = Table(
        id="by_point",
        title=col("strings.report_by_point"),
        columns=_columns(pack, Column("point", col("strings.report_col_point"), "label")),
        rows=_rows(titles, by_point, late_point),
        chart="barh",
    )
    areas = choice_labels(pack, "area")
    by_area = _by(figures, 1)
    area_table = Table(
        id="by_area",
        title=col("strings.report_compliance_by_area"),
        columns=_columns(pack, Column("area", col("strings.report_col_area"), "label")),
        rows=_rows(
            {**areas, **{a: a for a in by_area if a not in areas}}
            if not scope.limited
            else {a: areas.get(a, a) for a in ((scope.area,) if scope.area else scope.areas)},
            by_area,
            _late_by(late, 1),
        ),
        chart="barh",
    )
    codes = victim_update_codes(pack)
    victim = {code: titles[code] for code in codes}
    vc_table = Table(
        id="victims_code",
        title=col("strings.report_victims_code"),
        columns=_columns(pack, Column("point", col("strings.report_col_point"), "label")),
        rows=_rows(victim, by_point, late_point),
    )
    due = sum(by_point[c][0] for c in codes if c in by_point)
    met = sum(by_point[c][1] for c in codes if c in by_point)
    all_due = sum(f[0] for f in by_point.values())
    all_on_time = sum(f[1] for f in by_point.values())
    overdue = sum(f[4] for f in by_point.values())
    escalated = sum(f[3] for f in by_point.values())
    headline: list[tuple[str, Cell]] = [
        (col("strings.report_head_on_time"), _share(all_on_time, all_due)),
        (col("strings.report_head_overdue"), overdue),
        (col("strings.report_head_victims_code"), _share(met, due)),
    ]
    if scope.audience == "panel":
        hidden = col("strings.report_fewer_than_5")
        headline = [
            (headline[0][0], hidden if 0 < all_due < SMALL else headline[0][1]),
            headline[1],
            (headline[2][0], hidden if 0 < due < SMALL else headline[2][1]),
        ]
    return finish(
        pack,
        kind="compliance",
        title=col("strings.report_title_compliance"),
        covering=covering(pack, scope),
        scope=scope,
        tables=[
            point_table,
            area_table,
            vc_table,
            _messages(pack, session, scope, escalated),
            visits_table(pack, session=session, scope=scope),
        ],
        headline=headline,
        main_chart="by_point",
        now=now,
    )
