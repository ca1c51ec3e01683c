"""A report's framing: the period and area it covers, and the finished report for its audience."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from babel.dates import format_date, format_datetime

from bot.reports.labels import choice_labels, text
from bot.reports.scope import Scope
from bot.reports.tables import SMALL, Cell, Report, Table, for_audience
from dialogs.schema import Pack

__all__ = ["covering", "finish", "generated"]


def _date(pack: Pack, day: date) -> str:
    return format_date(day, format="d MMM yyyy", locale=pack.meta.locale)


def period(pack: Pack, scope: Scope) -> str:
    """The period in words ("from 1 Jan 2026 to 31 Mar 2026", "at any time on record")."""
    if scope.first and scope.last:
        return text(
            pack, "strings.report_period", first=_date(pack, scope.first), last=_date(pack, scope.last)
        )
    if scope.first:
        return text(pack, "strings.report_period_from", first=_date(pack, scope.first))
    if scope.last:
        return text(pack, "strings.report_period_to", last=_date(pack, scope.last))
    return pack.text("strings.report_period_all")


def covering(pack: Pack, scope: Scope) -> str:
    """What the report covers, as a sentence."""
    labels = choice_labels(pack, "area")
    named = [labels.get(a, a) for a in ((scope.area,) if scope.area else scope.areas)]
    area = (
        text(pack, "strings.report_area", area=", ".join(named))
        if named
        else pack.text("strings.report_area_all")
    )
    return text(pack, "strings.report_covering", period=period(pack, scope), area=area)


def generated(pack: Pack, now: datetime, scope: Scope) -> str:
    """When the report was produced, in the pack's time zone and language."""
    when = format_datetime(now.astimezone(scope.tz), format="EEE d MMM yyyy, HH:mm", locale=pack.meta.locale)
    return text(pack, "strings.report_generated", when=when)


def finish(
    pack: Pack,
    *,
    kind: str,
    title: str,
    covering: str,
    scope: Scope,
    tables: Sequence[Table],
    headline: Sequence[tuple[str, Cell]],
    main_chart: str | None,
    now: datetime,
) -> Report:
    """The report as `scope.audience` may see it: small numbers hidden and nobody named for a panel."""
    hidden = pack.text("strings.report_fewer_than_5")
    if scope.audience == "panel":
        headline = [
            (label, hidden if isinstance(value, int) and 0 < value < SMALL else value)
            for label, value in headline
        ]
    return Report(
        kind=kind,
        title=title,
        covering=covering,
        audience=scope.audience,
        tables=for_audience(tables, scope.audience, hidden=hidden),
        headline=tuple(headline),
        main_chart=main_chart,
        generated=generated(pack, now, scope),
    )
