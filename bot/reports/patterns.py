"""The patterns report: when, where and to whom assaults happen, and what came of them (seed 003)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import get_day_names
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.reports.labels import choice_labels, text
from bot.reports.scope import Scope
from bot.reports.sql import Dialect, histograms, median
from bot.reports.tables import Cell, Column, Report, Table
from bot.reports.trend import linear_trend
from bot.reports.wording import covering, finish
from dialogs.schema import Pack
from store.models import Case, CaseEvent, Person, PlanPoint

__all__ = ["TOP_LOCATIONS", "patterns", "victim_update_codes"]

#: How many locations the report lists.
TOP_LOCATIONS = 10


def victim_update_codes(pack: Pack) -> list[str]:
    """The plan points that are Victims' Code clocks: each one tells the victim something."""
    return [spec.code for spec in pack.plan.points if spec.updates_victim]


def _span(session: Session, scope: Scope) -> tuple[datetime, datetime] | None:
    low, high = session.execute(
        select(func.min(Case.occurred_at), func.max(Case.occurred_at)).where(scope.cases())
    ).one()
    return (low, high) if low is not None else None


def _counts(session: Session, column: Any, where: ColumnElement[bool]) -> dict[Any, int]:
    query = select(column, func.count()).where(where).group_by(column)
    return {value: int(n) for value, n in session.execute(query)}


def _labelled(
    pack: Pack,
    table: tuple[str, str],
    column: tuple[str, str],
    counts: Mapping[Any, int],
    labels: Mapping[str, str],
) -> Table:
    """A count per choice, in the pack's order (zeros included), then any other stored values."""
    rows: list[tuple[Cell, ...]] = [(labels[value], counts.get(value, 0)) for value in labels]
    rows += [(str(value), n) for value, n in counts.items() if value not in labels]
    return Table(
        id=table[0],
        title=pack.text(table[1]),
        columns=(
            Column(column[0], pack.text(column[1]), "label"),
            Column("cases", text(pack, "strings.report_col_cases")),
        ),
        rows=tuple(rows),
        chart="barh" if len(rows) > 4 else "bar",
    )


def _months(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _weeks(first: str, last: str) -> list[str]:
    day, end = date.fromisoformat(first), date.fromisoformat(last)
    weeks = []
    while day <= end:
        weeks.append(day.isoformat())
        day += timedelta(days=7)
    return weeks


def _hourly(session: Session, scope: Scope, dialect: Dialect, span: Any) -> dict[datetime, int]:
    """Cases per local hour ("2026-11-23 09"): one pass, from which months, weeks and the heat map
    are all summed (a few thousand rows however many cases)."""
    hour = dialect.local_hour(dialect.local(Case.occurred_at, span))
    counts = _counts(session, hour, scope.cases())
    return {datetime.strptime(str(key), "%Y-%m-%d %H"): n for key, n in counts.items()}


def _over_time(pack: Pack, hourly: Mapping[datetime, int], scope: Scope) -> list[Table]:
    """Cases by month (with the trend) and by week, over the whole period (empty months count)."""
    monthly: dict[str, int] = {}
    weekly: dict[str, int] = {}
    for at, n in hourly.items():
        month = f"{at:%Y-%m}"
        week = (at.date() - timedelta(days=at.weekday())).isoformat()
        monthly[month] = monthly.get(month, 0) + n
        weekly[week] = weekly.get(week, 0) + n
    # The period's own bounds where it has them, so months without cases still show as none.
    if scope.first:
        monthly.setdefault(f"{scope.first:%Y-%m}", 0)
        weekly.setdefault((scope.first - timedelta(days=scope.first.weekday())).isoformat(), 0)
    if scope.last and (monthly or scope.first):
        monthly.setdefault(f"{scope.last:%Y-%m}", 0)
        weekly.setdefault((scope.last - timedelta(days=scope.last.weekday())).isoformat(), 0)
    months = _months(min(monthly), max(monthly)) if monthly else []
    weeks = _weeks(min(weekly), max(weekly)) if weekly else []
    series = [monthly.get(m, 0) for m in months]
    trend = linear_trend(series)
    col = pack.text
    return [
        Table(
            id="cases_monthly",
            title=col("strings.report_cases_monthly"),
            columns=(
                Column("month", col("strings.report_col_month"), "label"),
                Column("cases", col("strings.report_col_cases")),
                Column("trend", col("strings.report_col_trend"), "number"),
            ),
            rows=tuple((m, n, t) for m, n, t in zip(months, series, trend, strict=True)),
            chart="line",
        ),
        Table(
            id="cases_weekly",
            title=col("strings.report_cases_weekly"),
            columns=(
                Column("week", col("strings.report_col_week"), "label"),
                Column("cases", col("strings.report_col_cases")),
            ),
            rows=tuple((w, weekly.get(w, 0)) for w in weeks),
            chart="line",
        ),
    ]


def _heatmap(pack: Pack, hourly: Mapping[datetime, int]) -> Table:
    counts: dict[tuple[int, int], int] = {}
    for at, n in hourly.items():
        counts[(at.weekday(), at.hour)] = counts.get((at.weekday(), at.hour), 0) + n
    names = get_day_names("abbreviated", locale=pack.meta.locale)
    rows = tuple((names[day], *(counts.get((day, h), 0) for h in range(24))) for day in range(7))
    columns = (
        Column("day", pack.text("strings.report_col_day"), "label"),
        *(Column(f"h{h:02d}", f"{h:02d}") for h in range(24)),
    )
    return Table(
        id="heatmap", title=pack.text("strings.report_heatmap"), columns=columns, rows=rows, chart="heatmap"
    )


def _repeat_victims(pack: Pack, session: Session, scope: Scope) -> list[Table]:
    per_victim = (
        select(Case.victim_id, func.count().label("cases"))
        .where(scope.cases())
        .group_by(Case.victim_id)
        .having(func.count() > 1)
        .subquery()
    )
    victims, cases = session.execute(
        select(func.count(), func.coalesce(func.sum(per_victim.c.cases), 0)).select_from(per_victim)
    ).one()
    named = session.execute(
        select(Person.display_name, Person.email, per_victim.c.cases)
        .join(per_victim, per_victim.c.victim_id == Person.id)
        .order_by(per_victim.c.cases.desc(), Person.email)
    ).all()
    col = pack.text
    return [
        Table(
            id="repeat_summary",
            title=col("strings.report_repeat_summary"),
            columns=(
                Column("colleagues", col("strings.report_col_colleagues")),
                Column("cases", col("strings.report_col_cases")),
            ),
            rows=((int(victims), int(cases)),),
        ),
        Table(
            id="repeat_victims",
            title=col("strings.report_repeat_victims"),
            columns=(
                Column("victim", col("strings.report_col_victim"), "person"),
                Column("cases", col("strings.report_col_cases")),
            ),
            rows=tuple((name or email, int(n)) for name, email, n in named),
            per_person=True,
        ),
    ]


def _outcomes(pack: Pack, session: Session, scope: Scope) -> Table:
    decision = CaseEvent.detail["decision"].as_string()
    decided = {
        value: int(n)
        for value, n in session.execute(
            select(decision, func.count(func.distinct(CaseEvent.case_id)))
            .join(Case, Case.id == CaseEvent.case_id)
            .where(scope.cases(), CaseEvent.kind == "decision_recorded")
            .group_by(decision)
        )
    }
    arrested = session.scalar(select(func.count()).where(scope.cases(), Case.suspect_arrested == "yes")) or 0
    labels = choice_labels(pack, "decision")
    rows: list[tuple[Cell, ...]] = [(pack.text("strings.report_arrested_at_report"), int(arrested))]
    rows += [(labels[value], decided.get(value, 0)) for value in labels]
    rows += [(str(value), n) for value, n in decided.items() if value not in labels]
    return Table(
        id="outcomes",
        title=pack.text("strings.report_outcomes"),
        columns=(
            Column("outcome", pack.text("strings.report_col_outcome"), "label"),
            Column("cases", pack.text("strings.report_col_cases")),
        ),
        rows=tuple(rows),
        chart="barh",
    )


def _timeliness(pack: Pack, session: Session, scope: Scope, dialect: Dialect) -> Table:
    first_io = (
        select(CaseEvent.case_id, func.min(CaseEvent.at).label("at"))
        .where(CaseEvent.kind == "investigator_assigned")
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    first_update = (
        select(PlanPoint.case_id, func.min(PlanPoint.done_at).label("at"))
        .where(PlanPoint.code.in_(victim_update_codes(pack)), PlanPoint.status == "done")
        .group_by(PlanPoint.case_id)
        .subquery()
    )
    rows: list[tuple[Cell, ...]] = []
    for key, first in (
        ("strings.report_time_to_io", first_io),
        ("strings.report_time_to_update", first_update),
    ):
        hours = (
            select(dialect.hours_between(Case.reported_at, first.c.at))
            .join(first, first.c.case_id == Case.id)
            .where(scope.cases())
        )
        bins = histograms(session, hours, groups=0).get((), {})
        rows.append((pack.text(key), sum(bins.values()), median(bins)))
    return Table(
        id="timeliness",
        title=pack.text("strings.report_timeliness"),
        columns=(
            Column("measure", pack.text("strings.report_col_measure"), "label"),
            Column("measured", pack.text("strings.report_col_measured")),
            Column("median_hours", pack.text("strings.report_col_median_hours"), "hours", base="measured"),
        ),
        rows=tuple(rows),
    )


def _top_locations(pack: Pack, session: Session, scope: Scope) -> Table:
    """The places with most cases: grouped in SQL by the location's keyed hash (the location is
    ciphertext), ties by the earliest case; only the place names shown are decrypted, each the
    one its group's first case gave."""
    cases = func.count().label("cases")
    first = func.min(Case.id).label("first")
    groups = session.execute(
        select(first, cases)
        .where(scope.cases())
        .group_by(Case.location_key)
        .order_by(cases.desc(), first)
        .limit(TOP_LOCATIONS)
    ).all()
    shown = select(Case.id, Case.location).where(Case.id.in_([row.first for row in groups]))
    names = {case_id: name for case_id, name in session.execute(shown)}
    return Table(
        id="top_locations",
        title=pack.text("strings.report_top_locations"),
        columns=(
            Column("location", pack.text("strings.report_col_location"), "label"),
            Column("cases", pack.text("strings.report_col_cases")),
        ),
        rows=tuple((" ".join(names[row.first].split()), int(row.cases)) for row in groups),
        chart="barh",
    )


def _headline(pack: Pack, session: Session, scope: Scope) -> tuple[tuple[str, Cell], ...]:
    total, hate, hospital = session.execute(
        select(
            func.count(),
            func.count().filter(Case.hate_crime.is_(True)),
            func.count().filter(Case.hospitalised.is_(True)),
        ).where(scope.cases())
    ).one()
    return (
        (pack.text("strings.report_head_cases"), int(total)),
        (pack.text("strings.report_head_hate"), int(hate)),
        (pack.text("strings.report_head_hospital"), int(hospital)),
    )


def patterns(pack: Pack, *, session: Session, scope: Scope, now: datetime) -> Report:
    """The patterns report for `scope`, as its audience may see it."""
    dialect = Dialect(session, scope.tz)
    span = _span(session, scope)
    hourly = _hourly(session, scope, dialect, span)
    where = scope.cases()
    hate = scope.cases() & Case.hate_crime.is_(True)
    tables: list[Table] = [
        *_over_time(pack, hourly, scope),
        _labelled(
            pack,
            ("by_kind", "strings.report_by_kind"),
            ("kind", "strings.report_col_kind"),
            _counts(session, Case.kind, where),
            choice_labels(pack, "kind"),
        ),
        _labelled(
            pack,
            ("by_strand", "strings.report_by_strand"),
            ("strand", "strings.report_col_strand"),
            _counts(session, Case.hate_strand, hate),
            choice_labels(pack, "hate_strand"),
        ),
        _labelled(
            pack,
            ("by_area", "strings.report_by_area"),
            ("area", "strings.report_col_area"),
            _counts(session, Case.area, where),
            choice_labels(pack, "area"),
        ),
        _labelled(
            pack,
            ("by_role", "strings.report_by_role"),
            ("role", "strings.report_col_role"),
            _counts(session, Case.victim_role, where),
            choice_labels(pack, "victim_role"),
        ),
        _labelled(
            pack,
            ("by_injury", "strings.report_by_injury"),
            ("injury", "strings.report_col_injury"),
            _counts(session, Case.injury_level, where),
            choice_labels(pack, "injury_level"),
        ),
        _labelled(
            pack,
            ("by_hospital", "strings.report_by_hospital"),
            ("hospital", "strings.report_col_hospital"),
            _yes_no(_counts(session, Case.hospitalised, where)),
            {"yes": pack.text("strings.yes"), "no": pack.text("strings.no")},
        ),
        _heatmap(pack, hourly),
        *_repeat_victims(pack, session, scope),
        _outcomes(pack, session, scope),
        _timeliness(pack, session, scope, dialect),
        _top_locations(pack, session, scope),
    ]
    return finish(
        pack,
        kind="patterns",
        title=pack.text("strings.report_title_patterns"),
        covering=covering(pack, scope),
        scope=scope,
        tables=tables,
        headline=_headline(pack, session, scope),
        main_chart="cases_monthly",
        now=now,
    )


def _yes_no(counts: Iterable[tuple[Any, int]] | Mapping[Any, int]) -> dict[str, int]:
    items = counts.items() if isinstance(counts, Mapping) else counts
    result: dict[str, int] = {}
    for value, n in items:
        key = "yes" if value else "no"
        result[key] = result.get(key, 0) + n
    return result
