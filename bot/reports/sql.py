"""The few SQL expressions SQLite and PostgreSQL spell differently, so one query serves both.

PostgreSQL converts to local time itself (`timezone(zone, t)`); SQLite has no time zones, so a
local time there is the stored UTC time shifted by the offset in force, chosen by a CASE over the
zone's transitions in the span of the data (a handful a year).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Float, Integer, Select, String, and_, case, cast, func, select
from sqlalchemy.orm import Session

__all__ = ["Dialect", "median_by"]


def _offset_minutes(tz: ZoneInfo, instant: datetime) -> int:
    offset = instant.astimezone(tz).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def offset_intervals(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, datetime, int]]:
    """The UTC intervals from `start` to `end` with the zone's offset in each, in minutes.

    Transitions are found to the minute by bisecting each day whose offset differs from the next.
    """
    intervals: list[tuple[datetime, datetime, int]] = []
    cursor, offset = start, _offset_minutes(tz, start)
    day = start
    while day < end:
        following = min(day + timedelta(days=1), end)
        if _offset_minutes(tz, following) != offset:
            low, high = day, following
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if _offset_minutes(tz, middle) == offset:
                    low = middle
                else:
                    high = middle
            intervals.append((cursor, high, offset))
            cursor, offset = high, _offset_minutes(tz, high)
        day = following
    intervals.append((cursor, end, offset))
    return intervals


class Dialect:
    """Expressions for one database: local time parts and durations."""

    def __init__(self, session: Session, tz: ZoneInfo) -> None:
        bind = session.get_bind()
        self.name = bind.dialect.name
        self.session = session
        self.tz = tz

    def local(self, column: Any, span: tuple[datetime, datetime] | None) -> Any:
        """`column` as a local wall-clock time; `span` bounds the stored values (SQLite's offsets)."""
        if self.name == "postgresql":
            return func.timezone(self.tz.key, column)
        if span is None:
            return func.datetime(column)
        start = span[0].astimezone(UTC) - timedelta(days=1)
        end = span[1].astimezone(UTC) + timedelta(days=1)
        intervals = offset_intervals(self.tz, start, end)
        if len(intervals) == 1:
            return func.datetime(column, f"{intervals[0][2]:+d} minutes")
        shift = case(
            *[
                (and_(column >= low, column < high), f"{minutes:+d} minutes")
                for low, high, minutes in intervals
            ],
            else_=f"{intervals[-1][2]:+d} minutes",
        )
        return func.datetime(column, shift)

    def month(self, local: Any) -> ColumnElement[str]:
        """'YYYY-MM' of a local time."""
        if self.name == "postgresql":
            return func.to_char(local, "YYYY-MM")
        return func.strftime("%Y-%m", local)

    def week(self, local: Any) -> ColumnElement[str]:
        """'YYYY-MM-DD' of the Monday starting a local time's week."""
        if self.name == "postgresql":
            return func.to_char(func.date_trunc("week", local), "YYYY-MM-DD")
        return cast(func.date(local, "weekday 0", "-6 days"), String)

    def weekday(self, local: Any) -> ColumnElement[int]:
        """Day of the week of a local time, 0 = Sunday (both databases count so)."""
        if self.name == "postgresql":
            return cast(func.extract("dow", local), Integer)
        return cast(func.strftime("%w", local), Integer)

    def hour(self, local: Any) -> ColumnElement[int]:
        """Hour of the day of a local time."""
        if self.name == "postgresql":
            return cast(func.extract("hour", local), Integer)
        return cast(func.strftime("%H", local), Integer)

    def hours_between(self, earlier: Any, later: Any) -> Any:
        """Hours from `earlier` to `later` (negative when `later` comes first)."""
        if self.name == "postgresql":
            return cast(func.extract("epoch", later - earlier), Float) / 3600.0
        return (func.julianday(later) - func.julianday(earlier)) * 24.0


def median_by(session: Session, values: Select[Any] | Any, groups: int = 1) -> dict[tuple[Any, ...], float]:
    """The median of the last column of `values` for each combination of its first `groups` columns.

    Computed in the database with window functions (both databases have them, neither has one
    median function they share): the middle row, or the mean of the two middle rows.
    """
    source = values.subquery()
    columns: Sequence[Any] = list(source.columns)
    keys, value = columns[:groups], columns[groups]
    ranked = select(
        *keys,
        value.label("value"),
        func.row_number().over(partition_by=keys or None, order_by=value).label("rn"),
        func.count().over(partition_by=keys or None).label("n"),
    ).subquery()
    rn, n = ranked.c.rn, ranked.c.n
    key_columns = [ranked.c[key.name] for key in keys]
    middle = (
        select(*key_columns, func.avg(ranked.c.value))
        .where(rn.in_([(n + 1) // 2, (n + 2) // 2]))
        .group_by(*key_columns)
    )
    return {
        tuple(row[:groups]): float(row[groups]) for row in session.execute(middle) if row[groups] is not None
    }
