"""Validators for typed answers, bound to `expect:` in the pack by name.

Each takes the cleaned text and returns either `Accepted` (the value to store) or `Rejected` (the
string key that explains what was wrong, with an example). They are pure: the time comes from the
turn.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from pydantic import JsonValue

from dialogs.schema import Pack
from dialogs.understand import is_skip, is_yes
from dialogs.when import read_when

__all__ = ["EXPECT", "Accepted", "Rejected", "Validator", "validate"]

_EMAIL_SPLIT = re.compile(r"[\s,;]+|\band\b", re.IGNORECASE)
_CRIME_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/\-. ]{2,39}$")


@dataclass(frozen=True)
class Accepted:
    """A valid answer: the JSON value to store.

    `confirm` says the value is one reading among several; the engine asks the person to confirm
    it (`strings.confirm_<validator>`) before storing it.
    """

    value: JsonValue
    confirm: bool = False


@dataclass(frozen=True)
class Rejected:
    """An answer that is re-asked, with the string explaining why (and showing an example)."""

    key: str


Result = Accepted | Rejected
Validator = Callable[[str, Pack, datetime], Result]


def _text(text: str, pack: Pack, now: datetime) -> Result:
    """Any non-empty text."""
    return Accepted(text) if text.strip() else Rejected("strings.empty_input")


def normalise_email(text: str) -> str | None:
    """The normalised address, or None if it is not an email address at all."""
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def is_work_email(email: str, pack: Pack) -> bool:
    """Whether the address is in one of the force's work domains (glob patterns in the pack)."""
    domain = email.rsplit("@", 1)[-1].lower()
    return any(fnmatch.fnmatch(domain, pattern.lower()) for pattern in pack.meta.work_email_domains)


def _work_email(text: str, pack: Pack, now: datetime) -> Result:
    """A single work email address."""
    email = normalise_email(text)
    if email is None:
        return Rejected("strings.bad_email")
    if not is_work_email(email, pack):
        return Rejected("strings.not_work_email")
    return Accepted(email)


def _work_emails_or_none(text: str, pack: Pack, now: datetime) -> Result:
    """Work email addresses separated by commas, spaces or "and"; or "none"."""
    if is_yes(text, pack.meta.commands) is False or is_skip(text, pack.meta.commands):
        return Accepted([])
    emails: list[JsonValue] = []
    for part in filter(None, (p.strip() for p in _EMAIL_SPLIT.split(text))):
        result = _work_email(part, pack, now)
        if isinstance(result, Rejected):
            return Rejected("strings.bad_email_list")
        if result.value not in emails:
            emails.append(result.value)
    return Accepted(emails) if emails else Rejected("strings.bad_email_list")


def _when_past(text: str, pack: Pack, now: datetime) -> Result:
    """A moment that is not in the future nor over a year ago, read as people say it on shift.

    A reading that was a guess ("at 3": 03:00 or 15:00?) is accepted for confirmation, and a day
    without a time is asked again (see `dialogs.when`).
    """
    reading = read_when(text, now=now, timezone=pack.meta.timezone)
    if reading.when is None:
        return Rejected(reading.problem or "strings.bad_date")
    return Accepted(reading.when.isoformat(), confirm=reading.confirm)


def _yes_no(text: str, pack: Pack, now: datetime) -> Result:
    """Yes or no, with the usual synonyms."""
    answer = is_yes(text, pack.meta.commands)
    return Rejected("strings.bad_yes_no") if answer is None else Accepted("yes" if answer else "no")


def _crime_reference(text: str, pack: Pack, now: datetime) -> Result:
    """A crime reference number as the force writes it (letters, digits, slashes, dashes)."""
    cleaned = " ".join(text.split())
    if not _CRIME_REFERENCE.match(cleaned):
        return Rejected("strings.bad_crime_reference")
    return Accepted(cleaned.upper())


_CASE_REFERENCE = re.compile(r"\bOH-\d{4}-\d{1,6}\b", re.IGNORECASE)


def find_case_reference(text: str) -> str | None:
    """The first case reference ("OH-2026-0042") in `text`, upper-cased, or None."""
    found = _CASE_REFERENCE.search(text)
    return found.group(0).upper() if found else None


def _case_reference(text: str, pack: Pack, now: datetime) -> Result:
    """A case reference such as OH-2026-0042."""
    reference = find_case_reference(text)
    return Accepted(reference) if reference else Rejected("strings.bad_case_reference")


def _days(text: str, pack: Pack, now: datetime) -> Result:
    """A whole number of days, 1 to 365 ("28", "28 days", "every 14 days")."""
    found = re.search(r"\d+", text)
    days = int(found.group(0)) if found else 0
    return Accepted(days) if 1 <= days <= 365 else Rejected("strings.bad_days")


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: How far ahead a proposed date may be.
_DATE_AHEAD_LIMIT = timedelta(days=366)


def _date_ahead(text: str, pack: Pack, now: datetime) -> Result:
    """A day from today to a year ahead ("tomorrow", "Friday", "5 December", "2026-12-05").

    Stored as an ISO date (a day, not a moment: a visit is planned for a day).
    """
    today = now.astimezone(ZoneInfo(pack.meta.timezone)).date()
    cleaned = text.strip()
    day: date | None
    if _ISO_DATE.match(cleaned):
        try:
            day = date.fromisoformat(cleaned)
        except ValueError:
            day = None
    else:
        # Imported on first use: dateparser's language data is slow to load.
        import dateparser

        parsed = dateparser.parse(
            cleaned,
            languages=["en"],
            settings={
                "DATE_ORDER": "DMY",
                "PREFER_DATES_FROM": "future",
                "RELATIVE_BASE": datetime.combine(today, datetime.min.time()),
                "RETURN_AS_TIMEZONE_AWARE": False,
            },
        )
        day = parsed.date() if parsed is not None else None
    if day is None:
        return Rejected("strings.bad_date_ahead")
    if day < today:
        return Rejected("strings.date_ahead_past")
    if day - today > _DATE_AHEAD_LIMIT:
        return Rejected("strings.date_ahead_too_far")
    return Accepted(day.isoformat())


_EMAIL_IN_TEXT = re.compile(r"\S+@\S+")


def _guidance_text(text: str, pack: Pack, now: datetime) -> Result:
    """The force's guidance to the OPCC, in the liaison's words, without a case's identifiers.

    Only the guidance may reach the OPCC (seed 004): a case reference or a colleague's address in
    it is refused, and the liaison asked to say it again without.
    """
    if not text.strip():
        return Rejected("strings.empty_input")
    if find_case_reference(text) or _EMAIL_IN_TEXT.search(text):
        return Rejected("strings.visit_guidance_case_detail")
    return Accepted(text.strip())


EXPECT: dict[str, Validator] = {
    "case_reference": _case_reference,
    "days": _days,
    "text": _text,
    "work_email": _work_email,
    "work_emails_or_none": _work_emails_or_none,
    "when_past": _when_past,
    "yes_no": _yes_no,
    "crime_reference": _crime_reference,
    "date_ahead": _date_ahead,
    "guidance_text": _guidance_text,
}


def validate(name: str, text: str, pack: Pack, now: datetime) -> Result:
    """Run the validator `name` on `text`."""
    return EXPECT[name](text, pack, now)
