"""Reading when something happened, as a tired supervisor types it, in the force's time zone.

The rules are the ones people use on shift, not a calendar library's: a clock time on its own is
its most recent past occurrence ("10pm" at 01:30 is last night, not tonight); "last night 3am" at
04:10 is 70 minutes ago; "at 3" could be 03:00 or 15:00, so the most recent of the two is offered
for confirmation; a day without a time is asked about again rather than guessed. Anything read
by the fallback parser (dateparser) is confirmed too, since its guesses ("at 3" as the 3rd of the
month) are exactly the ones that must never be stored silently.

Pure: `now` is passed in; the result is an aware UTC datetime, a confirmation flag, or the string
key that explains why the answer is asked again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Reading", "read_when"]

_UTC = ZoneInfo("UTC")
#: A time this far ahead of "now" is still accepted: clocks on phones and servers drift.
_CLOCK_SLACK = timedelta(minutes=5)
#: Older than this is not an incident being reported now; the person is asked again.
_TOO_LONG_AGO = timedelta(days=366)
#: A date read as this far back only because its year was left out is more likely a slip.
_AMBIGUOUS_YEAR = timedelta(days=183)
#: A clock time read as yesterday's this far back, while today's is at most _JUST_AHEAD ahead, may
#: be a slip ("22:30" typed at 22:20): it is confirmed rather than stored as yesterday's. ("3am"
#: typed at 01:30 is last night's without a question.)
_SLIPPED_BACK = timedelta(hours=20)
_JUST_AHEAD = timedelta(hours=1)
#: More than this many minutes ago is far past any year; larger numbers are not worked out.
_MINUTES_CAP = 2 * _TOO_LONG_AGO // timedelta(minutes=1)

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "twenty five": 25, "twenty-five": 25, "thirty": 30, "forty": 40, "forty five": 45, "fifty": 50,
}  # fmt: skip
_HOUR_WORD = r"\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(?P<m>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4, "sat": 5,
    "saturday": 5, "sun": 6, "sunday": 6,
}  # fmt: skip
_WEEKDAY = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_PART = r"morning|afternoon|evening|night"
_AMPM = r"(?P<ampm>a\.?m\.?|p\.?m\.?)"

_NOW = re.compile(r"^(?:just now|right now|now|just|a moment ago|moments ago|this minute)$")
_AGO = re.compile(
    r"^(?P<n>\d+|a couple of|couple of|half an?|an?|"
    + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    + r")\s*(?P<unit>minutes?|mins?|m|hours?|hrs?|h)\s+ago$"
)
_FILLERS = re.compile(
    r"\b(?:about|around|approx(?:imately)?|roughly|circa|at|on|it was|it happened|happened|"
    r"sometime|some time|the|of|o'?clock|in|and|just after|just before|gone|or so)\b"
)
_ISO = re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:t|\b)")
#: Ways of writing a date, tried in this order; day before month, as in the UK.
_DATES = tuple(
    re.compile(pattern)
    for pattern in (
        r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{2,4})\b",
        r"\b(?P<d>\d{1,2})[/-](?P<m>\d{1,2})(?:[/-](?P<y>\d{2,4}))?\b",
        rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}(?:\s+(?P<y>\d{{4}}))?(?!\S)",
        rf"\b{_MONTH}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{{4}}))?(?!\S)",
    )
)
_DAYS_AGO = re.compile(r"\b(?P<n>\d+|two|three|four|five|six) days ago\b")
_RELATIVE_DAY = re.compile(
    rf"\b(?P<day>day before yesterday|yesterday|earlier today|today|earlier|tonight|last night|"
    rf"(?:last |this )?(?:{_WEEKDAY}))\b(?:\s+(?P<part>{_PART}))?"
)
#: "this morning", "in the morning", or the part on its own ("morning 3" as "3 in the morning").
_THIS_PART = re.compile(rf"\b(?:(?:this|in the) )?(?P<part>{_PART})\b")
_NAMED_TIME = re.compile(r"\b(?P<name>midnight|midday|noon)\b")
_PAST_TO = re.compile(
    rf"\b(?P<min>half|quarter|\d{{1,2}}|twenty five|twenty-five|twenty|ten|five)\s*(?:mins?|minutes)?\s+"
    rf"(?P<dir>past|after|to)\s+(?P<hour>{_HOUR_WORD})(?:\s*{_AMPM})?(?!\w)"
)
_HALF = re.compile(rf"\bhalf (?P<hour>{_HOUR_WORD})(?:\s*{_AMPM})?(?!\w)")
_CLOCK = re.compile(rf"\b(?P<hour>\d{{1,2}})(?P<sep>[:.])(?P<min>\d{{2}})(?!\d)(?:\s*{_AMPM})?")
_HOUR_AMPM = re.compile(rf"\b(?P<hour>{_HOUR_WORD})\s*{_AMPM}(?!\w)")
_FOUR_DIGITS = re.compile(r"\b(?P<hour>[01]\d|2[0-3])(?P<min>[0-5]\d)\s*(?:hrs|hours|h)?\b")
_BARE_HOUR = re.compile(rf"\b(?P<hour>{_HOUR_WORD})\b")
_LEFTOVER = re.compile(r"[\s,;:\-~.!?]+|\b(?:ish|hrs|hours|last|this)\b")


@dataclass(frozen=True)
class Reading:
    """What a typed time was read as.

    Args:
        when: the instant (UTC), or None when the text is asked again.
        confirm: the reading was a guess between several; ask "Do you mean …?" before storing.
        problem: the string key explaining why the text is asked again (None when `when` is set).
    """

    when: datetime | None
    confirm: bool = False
    problem: str | None = None


@dataclass
class _Parts:
    """The pieces found in the text, before they are resolved against `now`."""

    day: date | None = None
    # How far back the named day could equally mean when its reading is still to come: a week for
    # "Tuesday 10pm" said on a Tuesday morning, a day for "last night 3am" said at 01:30.
    step_back: timedelta | None = None
    year_missing: bool = False
    part: str | None = None
    hour: int | None = None
    minute: int = 0
    ampm: str | None = None


def read_when(text: str, *, now: datetime, timezone: str) -> Reading:
    """Read `text` as a past moment in the force's zone (`timezone`), relative to `now`."""
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    said = _normalise(text)
    exact = _exact(said, text, now, zone)
    if exact is not None:
        return _checked(exact, now, confirm=False)
    parts = _parts(said, local_now)
    if parts is None:
        return _fallback(text, now, zone)
    return _resolve(parts, now, zone)


def _normalise(text: str) -> str:
    said = text.casefold().replace("\u2019", "'").strip()
    said = re.sub(r"(\d)\s*ish\b", r"\1", said)
    return " ".join(said.rstrip(".!?").split())


def _exact(said: str, raw: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """Readings that need no guessing: "now", "10 mins ago", an ISO timestamp."""
    if _NOW.match(said):
        return now
    ago = _AGO.match(said)
    if ago:
        amount = ago.group("n")
        number = 0.5 if amount.startswith("half") else 2 if "couple" in amount else None
        if number is None:
            number = _capped(amount, _MINUTES_CAP) if amount.isdigit() else _NUMBER_WORDS.get(amount, 1)
        unit = ago.group("unit")
        minutes = min(number * (60 if unit.startswith("h") else 1), _MINUTES_CAP)
        return now - timedelta(minutes=minutes)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(:\d{2})?(\.\d+)?(z|[+-]\d{2}:?\d{2})?", said):
        parsed = datetime.fromisoformat(raw.strip().replace("z", "+00:00").replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else _wall(parsed.date(), parsed.time(), zone)
    return None


def _capped(digits: str, limit: int) -> int:
    """`digits` as a number no bigger than `limit`, without converting a huge one (it overflows)."""
    digits = digits.lstrip("0") or "0"
    return limit if len(digits) > len(str(limit)) else min(int(digits), limit)


def _take(pattern: re.Pattern[str], said: str) -> tuple[re.Match[str] | None, str]:
    found = pattern.search(said)
    if not found:
        return None, said
    return found, (said[: found.start()] + " " + said[found.end() :]).strip()


def _parts(said: str, local_now: datetime) -> _Parts | None:
    """Split `said` into a day, a part of the day and a clock time; None if anything is left over."""
    parts = _Parts()
    rest = said
    today = local_now.date()
    found, rest = _take(_ISO, rest)
    if found:
        parts.day = _date(int(found["y"]), int(found["m"]), int(found["d"]))
        if parts.day is None:
            return None
    else:
        for pattern in _DATES:
            found, rest = _take(pattern, rest)
            if found:
                month = int(found["m"]) if found["m"].isdigit() else _MONTHS.index(found["m"][:3]) + 1
                year = found["y"]
                parts.year_missing = year is None
                full_year = today.year if year is None else int(year) + (2000 if len(year) == 2 else 0)
                parts.day = _date(full_year, month, int(found["d"]))
                if parts.day is None:
                    return None
                break
    if parts.day is not None:
        # "Thu 26 Nov": the weekday only repeats the date.
        rest = re.sub(rf"\b(?:{_WEEKDAY})\b", " ", rest)
    else:
        found, rest = _take(_DAYS_AGO, rest)
        if found:
            count = found["n"]
            days = _capped(count, _MINUTES_CAP // (24 * 60)) if count.isdigit() else _NUMBER_WORDS[count]
            parts.day = today - timedelta(days=days)
        else:
            found, rest = _take(_RELATIVE_DAY, rest)
            if found:
                parts.day, parts.part = _relative_day(found["day"], local_now)
                parts.part = found["part"] or parts.part
                if found["day"].split()[-1] in _WEEKDAYS:
                    parts.step_back = timedelta(days=7)
                elif found["day"] == "last night":
                    parts.step_back = timedelta(days=1)
    found, rest = _take(_THIS_PART, rest)
    if found:
        parts.part = found["part"]
        parts.day = parts.day or today
    if not _time(rest, parts):
        return None
    if parts.day is None and parts.hour is None:
        return None
    return parts


def _time(rest: str, parts: _Parts) -> bool:
    """Fill the clock time from `rest`; False when words are left that are not a time."""
    found, rest = _take(_NAMED_TIME, rest)
    if found:
        parts.hour, parts.ampm = (0, "am") if found["name"] == "midnight" else (12, "pm")
    else:
        pattern, clock, rest = _first_clock(rest)
        if clock:
            fields = clock.groupdict()
            hour = _number(fields["hour"] or "")
            minute = _minute(pattern, fields.get("min"))
            if hour is None or minute is None or hour > 24:
                return False
            parts.ampm = (fields.get("ampm") or "").replace(".", "") or None
            # With its day given ("yesterday 10:00", "24/11 10:00") a clock time is read as the
            # 24-hour clock police write; only a part of the day given with it says otherwise.
            dated = parts.day is not None and parts.part is None and pattern is _CLOCK
            if parts.ampm is None and (dated or _is_24_hour(fields, hour)):
                parts.ampm = "24h"
            if fields.get("dir") == "to":
                hour, minute = (hour - 1 if hour > 0 else 23), 60 - minute
            parts.hour, parts.minute = hour % 24, minute
    leftover = _LEFTOVER.sub(" ", _FILLERS.sub(" ", rest)).strip()
    return not leftover


def _first_clock(rest: str) -> tuple[re.Pattern[str], re.Match[str] | None, str]:
    """The first way of writing a clock time found in `rest`, most specific first."""
    for pattern in (_PAST_TO, _HALF, _CLOCK, _HOUR_AMPM, _FOUR_DIGITS):
        found, left = _take(pattern, rest)
        if found:
            return pattern, found, left
    found, left = _take(_BARE_HOUR, rest)
    return _BARE_HOUR, found, left


def _number(word: str) -> int | None:
    return int(word) if word.isdigit() else _NUMBER_WORDS.get(word)


def _is_24_hour(fields: dict[str, str | None], hour: int) -> bool:
    """Whether the hour can be read only one way: "22:30", "0300", "14", or "09:15" with its zero.

    "11.30", "11:30", "1130" and "9:15" stay open (people write half eleven at night that way too),
    so a part of the day given with them ("last night 11:30") chooses morning or evening.
    """
    return hour == 0 or hour > 12 or (fields["hour"] or "").startswith("0")


def _minute(pattern: re.Pattern[str], value: str | None) -> int | None:
    if pattern is _HALF:
        return 30  # "half ten" is 10:30
    if value is None:
        return 0
    if value == "half":
        return 30
    if value == "quarter":
        return 15
    minute = _number(value)
    return minute if minute is not None and minute < 60 else None


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _relative_day(word: str, local_now: datetime) -> tuple[date, str | None]:
    """The day a relative word names, and the part of the day it implies."""
    today = local_now.date()
    if word == "day before yesterday":
        return today - timedelta(days=2), None
    if word == "yesterday":
        return today - timedelta(days=1), None
    if word in ("today", "earlier today", "earlier"):
        return today, None
    if word == "last night":
        return today - timedelta(days=1), "night"
    if word == "tonight":
        # In the small hours, "tonight" is the night still running: the one that started yesterday.
        return (today if local_now.hour >= 6 else today - timedelta(days=1)), "night"
    weekday = _WEEKDAYS[word.split()[-1]]
    back = (local_now.weekday() - weekday) % 7
    if word.startswith("last ") and back == 0:
        back = 7
    return today - timedelta(days=back), None


def _hours(parts: _Parts) -> list[tuple[int, int]]:
    """The candidate (24-hour clock hour, day offset) pairs the time could mean."""
    assert parts.hour is not None
    hour = parts.hour
    if parts.ampm == "24h":
        hours = [hour]
    elif parts.ampm and parts.ampm.startswith("a"):
        hours = [hour % 12]
    elif parts.ampm and parts.ampm.startswith("p"):
        hours = [hour % 12 + 12]
    elif parts.part == "morning":
        hours = [hour % 12]
    elif parts.part in ("afternoon", "evening"):
        hours = [hour % 12 + 12]
    elif parts.part == "night":
        hours = [hour % 12 + 12 if hour % 12 >= 6 else hour % 12]
    else:
        hours = [hour % 12, hour % 12 + 12]
    # A night runs past midnight: its small hours belong to the next calendar day.
    return [(h, 1 if parts.part == "night" and h < 12 else 0) for h in hours]


def _resolve(parts: _Parts, now: datetime, zone: ZoneInfo) -> Reading:
    local_now = now.astimezone(zone)
    if parts.hour is None:
        assert parts.day is not None
        day = parts.day
        if parts.year_missing and _wall(day, time(0, 0), zone) > now + _CLOCK_SLACK:
            earlier = _date(day.year - 1, day.month, day.day)
            if earlier is not None and now - _wall(earlier, time(0, 0), zone) <= _AMBIGUOUS_YEAR:
                day = earlier
        start = _wall(day, time(0, 0), zone)
        if start > now + _CLOCK_SLACK:
            return Reading(None, problem="strings.date_in_future")
        if now - start > _TOO_LONG_AGO:
            return Reading(None, problem="strings.date_too_old")
        return Reading(None, problem="strings.date_needs_time")
    hours = _hours(parts)
    ambiguous = len(hours) > 1
    days = [local_now.date(), local_now.date() - timedelta(days=1)] if parts.day is None else [parts.day]
    candidates = [
        _wall(day + timedelta(days=offset), time(hour, parts.minute), zone)
        for day in days
        for hour, offset in hours
    ]
    latest = now + _CLOCK_SLACK
    past = [c for c in candidates if c <= latest]
    if parts.year_missing and not past and parts.day is not None:
        # "30/12 22:00" on 2 January is last year; "24/11" on 23 November is a slip, not a year ago.
        last_year = _date(parts.day.year - 1, parts.day.month, parts.day.day)
        readings = [
            _wall(last_year + timedelta(days=offset), time(hour, parts.minute), zone)
            for hour, offset in hours
            if last_year is not None
        ]
        if readings and now - max(readings) <= _AMBIGUOUS_YEAR:
            return _checked(max(readings), now, confirm=True)
        return Reading(None, problem="strings.date_in_future")
    if not past:
        if parts.step_back is not None:
            # Worth a question: the person may have meant the one before, or slipped.
            return _checked(max(c - parts.step_back for c in candidates), now, confirm=True)
        return Reading(None, problem="strings.date_in_future")
    chosen = max(past)
    # "22:30" typed at 22:20 is yesterday's only because today's is just ahead: a slow watch or a
    # slip as likely as a day-old incident, so it is asked about, never stored as yesterday's unasked.
    slipped = now - chosen > _SLIPPED_BACK and any(latest < c <= now + _JUST_AHEAD for c in candidates)
    return _checked(chosen, now, confirm=ambiguous or slipped)


def _checked(when: datetime, now: datetime, *, confirm: bool) -> Reading:
    if when > now + _CLOCK_SLACK:
        return Reading(None, problem="strings.date_in_future")
    if now - when > _TOO_LONG_AGO:
        return Reading(None, problem="strings.date_too_old")
    return Reading(when.astimezone(_UTC), confirm=confirm)


def _wall(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time in the zone; the first of a repeated autumn hour, a spring gap moved on."""
    return datetime.combine(day, clock).replace(tzinfo=zone).astimezone(_UTC).astimezone(zone)


def _fallback(text: str, now: datetime, zone: ZoneInfo) -> Reading:
    """Anything else goes to dateparser, and its reading is always confirmed."""
    # Imported on first use: dateparser's language data is a tenth of the console's start-up.
    import dateparser

    local_now = now.astimezone(zone).replace(tzinfo=None)
    parsed = dateparser.parse(
        text,
        languages=["en"],
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": "past",
            "RELATIVE_BASE": local_now,
            "RETURN_AS_TIMEZONE_AWARE": False,
            "PREFER_DAY_OF_MONTH": "current",
        },
    )
    if parsed is None:
        return Reading(None, problem="strings.bad_date")
    when = parsed.replace(tzinfo=zone).astimezone(_UTC)
    if now - when > timedelta(days=365 * 10):
        return Reading(None, problem="strings.bad_date")  # "32/13" is a misreading, not 1932
    return _checked(when, now, confirm=True)
