"""Calendar arithmetic for plan clocks, in the force's time zone.

Hours are elapsed time (a 1-hour clock at 01:30 on the night the clocks change is still an hour);
days and working days are calendar days on the wall clock, so "7 days after 14:00" is 14:00 a week
later whatever the clocks did in between. Working days are those of the pack's bank-holiday
calendar (England and Wales by default), counted by the `holidays` package; meetings recur by a
`dateutil` weekly rule; calendar months are `dateutil` relative deltas.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta
from dateutil.rrule import WEEKLY, rrule

from dialogs.schema import DueRule, MeetingSpec

__all__ = [
    "add_months",
    "add_working_days",
    "due_at",
    "is_working_day",
    "local_time_today",
    "next_meeting",
    "on_working_day",
    "quiet_until",
    "to_utc",
]

_UTC = ZoneInfo("UTC")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: Where a clock that starts outside working days falls due on its last day.
_END_OF_DAY = time(23, 59)


@lru_cache(maxsize=8)
def _calendar(spec: str) -> holidays.HolidayBase:
    country, _, subdiv = spec.partition("-")
    return holidays.country_holidays(country, subdiv=subdiv or None)


def is_working_day(day: date, *, calendar: str = "GB-ENG") -> bool:
    """Not a weekend day nor a bank holiday of `calendar`."""
    return bool(_calendar(calendar).is_working_day(day))


def on_working_day(
    moment: datetime, *, timezone: str, calendar: str = "GB-ENG", earlier: bool = False
) -> datetime:
    """`moment` if it falls on a working day, else the same wall-clock time on the next one.

    Dates told to a victim go through this: "by Saturday" is a promise nobody is at work to keep.
    With `earlier`, the working day before instead: for a deadline the victim must meet (asking
    for a review), a later day would tell them they have time they do not have.
    """
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    day = local.date()
    step = timedelta(days=-1 if earlier else 1)
    while not is_working_day(day, calendar=calendar):
        day += step
    return moment if day == local.date() else _wall(datetime.combine(day, local.time(), tzinfo=zone), zone)


def _wall(local: datetime, zone: ZoneInfo) -> datetime:
    """Re-attach the zone to a wall-clock time so the UTC offset is the one in force that day."""
    naive = local.replace(tzinfo=None)
    return naive.replace(tzinfo=zone).astimezone(_UTC).astimezone(zone)


def add_working_days(start: datetime, count: int, *, timezone: str, calendar: str = "GB-ENG") -> datetime:
    """`count` working days after `start`, at the same wall-clock time.

    A start outside working days starts the clock on the next working day, which counts as the
    first: a decision on a Saturday with a 1-working-day clock falls due at the end of Monday.
    """
    zone = ZoneInfo(timezone)
    local = start.astimezone(zone)
    if count <= 0:
        return _wall(local, zone)
    bank_holidays = _calendar(calendar)
    # From a non-working day the n-th working day on is the n-th counting the next one as the first.
    day = bank_holidays.get_nth_working_day(local.date(), count)
    at = local.time() if bank_holidays.is_working_day(local.date()) else _END_OF_DAY
    return _wall(datetime.combine(day, at, tzinfo=zone), zone)


def next_meeting(after: datetime, meeting: MeetingSpec, *, timezone: str) -> datetime:
    """The first meeting of the cadence at least the meeting's notice period after `after`."""
    zone = ZoneInfo(timezone)
    local = (after + timedelta(hours=meeting.min_notice_hours)).astimezone(zone)
    hour, minute = (int(part) for part in meeting.time.split(":"))
    anchor = date.fromisoformat(meeting.anchor)
    anchor += timedelta(days=(_WEEKDAYS.index(meeting.weekday) - anchor.weekday()) % 7)
    period = timedelta(weeks=meeting.every_weeks)
    # The rule only counts forward, so it starts at the cadence's last meeting day on or before
    # `local`: an anchor in the future still fixes which weeks of a fortnightly cadence hold one.
    first = anchor + period * ((local.date() - anchor) // period)
    cadence = rrule(
        WEEKLY,
        interval=meeting.every_weeks,
        byhour=hour,
        byminute=minute,
        bysecond=0,
        dtstart=datetime.combine(first, time(hour, minute)),
    )
    for occurrence in cadence:
        candidate = _wall(occurrence.replace(tzinfo=zone), zone)
        if candidate > local:
            return candidate
    raise AssertionError("a weekly rule without an end never runs out")


def due_at(
    rule: DueRule,
    *,
    start: datetime,
    timezone: str,
    calendar: str = "GB-ENG",
    meetings: dict[str, MeetingSpec] | None = None,
) -> datetime:
    """When a point with `rule` falls due, counted from `start` (returned in UTC)."""
    zone = ZoneInfo(timezone)
    if rule.hours is not None:
        return to_utc(start + timedelta(hours=rule.hours))
    if rule.days is not None:
        local = start.astimezone(zone)
        return to_utc(_wall(local + timedelta(days=rule.days), zone))
    if rule.working_days is not None:
        return to_utc(add_working_days(start, rule.working_days, timezone=timezone, calendar=calendar))
    assert rule.next_meeting is not None
    meeting = (meetings or {})[rule.next_meeting]
    return to_utc(next_meeting(start, meeting, timezone=timezone))


def to_utc(moment: datetime) -> datetime:
    """The same instant in UTC (what the store keeps)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(_UTC)


def _hhmm(text: str) -> time:
    hour, minute = (int(part) for part in text.split(":"))
    return time(hour, minute)


def local_time_today(now: datetime, clock_time: str, *, timezone: str) -> datetime:
    """Today's `clock_time` ("08:00") in the force's zone, as an aware datetime in UTC."""
    zone = ZoneInfo(timezone)
    return to_utc(_wall(datetime.combine(now.astimezone(zone).date(), _hhmm(clock_time), tzinfo=zone), zone))


@lru_cache(maxsize=1024)
def quiet_until(now: datetime, quiet_from: str, quiet_until: str, *, timezone: str) -> datetime | None:
    """When the quiet hours `now` falls in end (in UTC), or None outside them.

    The period may cross midnight (22:00-07:00); equal times mean no quiet hours.
    """
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    start, end = _hhmm(quiet_from), _hhmm(quiet_until)
    if start == end:
        return None
    current = local.time().replace(tzinfo=None)
    inside = start <= current < end if start < end else (current >= start or current < end)
    if not inside:
        return None
    day = local.date() if current < end else local.date() + timedelta(days=1)
    return to_utc(_wall(datetime.combine(day, end, tzinfo=zone), zone))


def add_months(moment: datetime, months: int, *, timezone: str) -> datetime:
    """The same wall-clock time `months` calendar months later (the 31st becomes the month's last day)."""
    zone = ZoneInfo(timezone)
    return to_utc(_wall(moment.astimezone(zone) + relativedelta(months=months), zone))
