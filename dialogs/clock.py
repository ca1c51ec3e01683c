"""Calendar arithmetic for plan clocks, in the force's time zone.

Hours are elapsed time (a 1-hour clock at 01:30 on the night the clocks change is still an hour);
days and working days are calendar days on the wall clock, so "7 days after 14:00" is 14:00 a week
later whatever the clocks did in between. Working days skip weekends and the bank holidays of the
pack's calendar (England and Wales by default, from the `holidays` package).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from dialogs.schema import DueRule, MeetingSpec

__all__ = [
    "add_months",
    "add_working_days",
    "due_at",
    "format_when",
    "is_working_day",
    "local_time_today",
    "next_meeting",
    "quiet_until",
    "to_utc",
]

_UTC = ZoneInfo("UTC")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@lru_cache(maxsize=8)
def _calendar(spec: str) -> holidays.HolidayBase:
    country, _, subdiv = spec.partition("-")
    return holidays.country_holidays(country, subdiv=subdiv or None)


def is_working_day(day: date, *, calendar: str = "GB-ENG") -> bool:
    """Monday to Friday and not a bank holiday."""
    return day.weekday() < 5 and day not in _calendar(calendar)


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
    day = local.date()
    if count > 0 and not is_working_day(day, calendar=calendar):
        # The clock starts with the next working day, which is the first of the `count`.
        while not is_working_day(day, calendar=calendar):
            day += timedelta(days=1)
        day = _skip_working_days(day, count - 1, calendar)
        return _wall(datetime.combine(day, time(23, 59), tzinfo=zone), zone)
    day = _skip_working_days(day, count, calendar)
    return _wall(datetime.combine(day, local.time(), tzinfo=zone), zone)


def _skip_working_days(day: date, count: int, calendar: str) -> date:
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day, calendar=calendar):
            count -= 1
    return day


def next_meeting(after: datetime, meeting: MeetingSpec, *, timezone: str) -> datetime:
    """The first meeting of the cadence at least the meeting's notice period after `after`."""
    zone = ZoneInfo(timezone)
    local = (after + timedelta(hours=meeting.min_notice_hours)).astimezone(zone)
    hour, minute = (int(part) for part in meeting.time.split(":"))
    anchor = date.fromisoformat(meeting.anchor)
    weekday = _WEEKDAYS.index(meeting.weekday)
    anchor += timedelta(days=(weekday - anchor.weekday()) % 7)
    period = 7 * meeting.every_weeks
    day = local.date()
    offset = (day - anchor).days % period
    day -= timedelta(days=offset)
    while True:
        candidate = _wall(datetime.combine(day, time(hour, minute), tzinfo=zone), zone)
        if candidate > local:
            return candidate
        day += timedelta(days=period)


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


def format_when(moment: datetime | str, *, timezone: str) -> str:
    """A date and time as people read it in the force: "Mon 23 Nov 2026, 14:30"."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"


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
    local = moment.astimezone(zone)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    next_month = date(year + month // 12, month % 12 + 1, 1)
    day = min(local.day, (next_month - timedelta(days=1)).day)
    return to_utc(_wall(local.replace(year=year, month=month, day=day), zone))
