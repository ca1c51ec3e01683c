"""What a report covers: a period of local dates, an area, and the audience it is written for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, true

from bot.reports.tables import Audience
from store.models import Case, PlanPoint

__all__ = ["Audience", "Scope"]


@dataclass(frozen=True)
class Scope:
    """Cases that occurred from `first` to `last` (local dates, inclusive) in `area` (None: all).

    Args:
        first: the first day counted, or None for the start of the records.
        last: the last day counted (inclusive), or None for up to now.
        area: one of the pack's areas, or None for the whole force.
        audience: `internal` (the SLT and the SPOC) or `panel` (anyone beyond: small numbers hidden).
        tz: the pack's time zone, in which dates, weeks and hours of the day are read.
        areas: with no `area`, only cases in these (a senior leader's own areas); empty: all.
    """

    first: date | None
    last: date | None
    area: str | None
    tz: ZoneInfo
    audience: Audience = "internal"
    areas: tuple[str, ...] = ()

    @property
    def limited(self) -> bool:
        """Whether the scope is narrower than the whole force."""
        return self.area is not None or bool(self.areas)

    def in_area(self, column: Any = Case.area) -> ColumnElement[bool]:
        """The WHERE clause keeping the cases of the scope's area(s), read from `column`."""
        if self.area is not None:
            return column == self.area  # type: ignore[no-any-return]
        return column.in_(self.areas) if self.areas else true()

    @property
    def start(self) -> datetime | None:
        """The first instant counted (aware), or None."""
        return datetime.combine(self.first, time(), self.tz) if self.first else None

    @property
    def end(self) -> datetime | None:
        """The first instant not counted (aware), or None."""
        return datetime.combine(self.last + timedelta(days=1), time(), self.tz) if self.last else None

    def cases(self) -> ColumnElement[bool]:
        """The WHERE clause selecting the cases in scope."""
        return self._within(Case.occurred_at, Case.area)

    def points(self) -> ColumnElement[bool]:
        """The WHERE clause selecting the plan points of the cases in scope, by the case's area and
        time each point carries (no join to the cases)."""
        return self._within(PlanPoint.case_occurred_at, PlanPoint.case_area)

    def _within(self, occurred_at: Any, area: Any) -> ColumnElement[bool]:
        conditions: list[ColumnElement[bool]] = []
        if self.start is not None:
            conditions.append(occurred_at >= self.start)
        if self.end is not None:
            conditions.append(occurred_at < self.end)
        if self.limited:
            conditions.append(self.in_area(area))
        return and_(true(), *conditions)

    def instants(self, column: Any) -> ColumnElement[bool]:
        """The WHERE clause keeping `column`'s times inside the period (messages sent, for instance)."""
        conditions: list[ColumnElement[bool]] = []
        if self.start is not None:
            conditions.append(column >= self.start)
        if self.end is not None:
            conditions.append(column < self.end)
        return and_(true(), *conditions)
