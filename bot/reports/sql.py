"""The few SQL expressions SQLite and PostgreSQL spell differently, so one query serves both.

PostgreSQL converts to local time itself (`timezone(zone, t)`); SQLite has no time zones, so a
local time there is the stored UTC time shifted by the offset in force, chosen by a CASE over the
zone's transitions in the span of the data (a handful a year).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

__all__ = ["Dialect", "Histogram", "histograms", "median", "median_by", "merged"]


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

    def local_hour(self, local: Any) -> ColumnElement[str]:
        """'YYYY-MM-DD HH' of a local time: the hour it falls in."""
        if self.name == "postgresql":
            return func.to_char(local, "YYYY-MM-DD HH24")
        return func.strftime("%Y-%m-%d %H", local)

    def likely(self, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        """`condition`, marked as true of most rows: SQLite's planner then scans a covering index
        rather than search one on that column (PostgreSQL keeps statistics of its own)."""
        if self.name == "sqlite":
            return func.likelihood(condition, literal_column("0.9"))
        return condition

    def hours_between(self, earlier: Any, later: Any) -> Any:
        """Hours from `earlier` to `later` (negative when `later` comes first)."""
        if self.name == "postgresql":
            return cast(func.extract("epoch", later - earlier), Float) / 3600.0
        return (func.julianday(later) - func.julianday(earlier)) * 24.0


Histogram = dict[int, int]


def histograms(
    session: Session, values: Select[Any] | Any, groups: int = 1
) -> dict[tuple[Any, ...], Histogram]:
    """How many values of the last column of `values` fall in each tenth, per combination of its
    first `groups` columns.

    The database groups by those columns only and hands back each group's tenths as one string,
    which is counted here: grouping by the tenth too made it sort every value (most of a report's
    time over 100,000 cases), where a group's values arrive in index order and need no sort. A
    window function over every row is slower still on SQLite. Medians are read off the histogram,
    exact to the 0.1 the reports show, and histograms of finer groups add up to those of coarser ones.
    """
    source = values.subquery()
    columns: Sequence[Any] = list(source.columns)
    keys, value = columns[:groups], columns[groups]
    tenths = func.aggregate_strings(cast(cast(func.round(value * 10), Integer), String), ",")
    counted = select(*keys, tenths).where(value.is_not(None)).group_by(*keys)
    found: dict[tuple[Any, ...], Histogram] = {}
    for row in session.execute(counted):
        if row[groups] is None:  # no values (a query without groups still returns its one row)
            continue
        bins = found.setdefault(tuple(row[:groups]), {})
        for tenth, n in Counter(row[groups].split(",")).items():
            bins[int(tenth)] = bins.get(int(tenth), 0) + n
    return found


def merged(parts: Iterable[Histogram]) -> Histogram:
    """The histogram of several groups together."""
    total: Histogram = {}
    for part in parts:
        for tenth, n in part.items():
            total[tenth] = total.get(tenth, 0) + n
    return total


def median(histogram: Histogram) -> float | None:
    """The median of a histogram of tenths: the middle value, or the mean of the two middle values."""
    total = sum(histogram.values())
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]
    found: list[int] = []
    seen = 0
    for value in sorted(histogram):
        n = histogram[value]
        while wanted and wanted[0] < seen + n:
            found.append(value)
            wanted.pop(0)
        seen += n
    return sum(found) / len(found) / 10


def median_by(session: Session, values: Select[Any] | Any, groups: int = 1) -> dict[tuple[Any, ...], float]:
    """The median (to 0.1) of the last column of `values` per combination of its first `groups`."""
    return {
        key: value
        for key, bins in histograms(session, values, groups).items()
        if (value := median(bins)) is not None
    }
