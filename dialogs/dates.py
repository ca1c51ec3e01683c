"""Dates and times as people read them: in the force's time zone and the pack's language.

Babel writes them from the Unicode CLDR data, so one pattern gives "Mon 23 Nov 2026, 09:05" in an
English pack (`locale: en_GB`) and "Llun 23 Tach 2026, 09:05" in a Welsh one (`locale: cy`).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime

from dialogs.schema import Pack

__all__ = ["DEFAULT_LOCALE", "day_text", "format_when", "parse_locale", "when_text"]

DEFAULT_LOCALE = "en_GB"
#: Day, date and 24-hour time: a CLDR pattern, so the names are the locale's.
_WHEN = "EEE d MMM y, HH:mm"


@lru_cache(maxsize=16)
def parse_locale(name: str) -> Locale:
    """The Babel locale called `name` ("en_GB", "cy"); raises ValueError for an unknown one."""
    try:
        return Locale.parse(name)
    except UnknownLocaleError as error:
        raise ValueError(str(error)) from None


def format_when(moment: datetime | str, *, timezone: str, locale: str = DEFAULT_LOCALE) -> str:
    """A date and time (aware, or ISO 8601 text) in `timezone`, written in `locale`."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return format_datetime(moment, _WHEN, tzinfo=ZoneInfo(timezone), locale=parse_locale(locale))


def when_text(pack: Pack, value: object) -> str:
    """A stored moment (a datetime or ISO 8601 text) as the pack writes it; "" for none."""
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else str(value)
    return format_when(moment, timezone=pack.meta.timezone, locale=pack.meta.locale)


#: A day without a time ("Friday 4 December 2026"): a CLDR pattern.
_DAY = "EEEE d MMMM y"


def day_text(pack: Pack, value: object) -> str:
    """A day (a date, or ISO 8601 text such as "2026-12-04") as the pack writes it; "" for none."""
    if not value:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return format_date(day, _DAY, locale=parse_locale(pack.meta.locale))
