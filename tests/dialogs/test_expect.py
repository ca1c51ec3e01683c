"""Validators for typed answers: natural dates, work emails, yes/no, crime references."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from dialogs.expect import Accepted, Rejected, validate
from dialogs.schema import Pack

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 09:00 GMT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yesterday 10pm", "2026-11-22T22:00:00+00:00"),
        ("yesterday at 22:00", "2026-11-22T22:00:00+00:00"),
        ("22/11 14:30", "2026-11-22T14:30:00+00:00"),
        ("22/11/2026 14:30", "2026-11-22T14:30:00+00:00"),
        ("today 8am", "2026-11-23T08:00:00+00:00"),
        ("2 hours ago", "2026-11-23T07:00:00+00:00"),
        ("1/8 14:00", "2026-08-01T13:00:00+00:00"),  # British summer time: 14:00 BST is 13:00 UTC
        ("10pm", "2026-11-22T22:00:00+00:00"),  # at 09:00, "10pm" is last night
        ("friday 10pm", "2026-11-20T22:00:00+00:00"),
        ("24/11/2025 14:00", "2025-11-24T14:00:00+00:00"),  # a year given is a year meant
    ],
)
def test_natural_dates_are_read_day_first_in_the_forces_zone(pack: Pack, text: str, expected: str) -> None:
    assert validate("when_past", text, pack, NOW) == Accepted(expected)


@pytest.mark.parametrize("text", ["tomorrow", "in 3 days", "24/11 10:00", "1st December", "10pm tonight"])
def test_a_date_in_the_future_is_refused(pack: Pack, text: str) -> None:
    assert validate("when_past", text, pack, NOW) == Rejected("strings.date_in_future")


@pytest.mark.parametrize("text", ["the day the music died", "32/13", "🚓"])
def test_an_unreadable_date_is_refused(pack: Pack, text: str) -> None:
    assert validate("when_past", text, pack, NOW) == Rejected("strings.bad_date")


def test_a_guessed_time_is_accepted_for_confirmation(pack: Pack) -> None:
    assert validate("when_past", "at 3", pack, NOW) == Accepted("2026-11-23T03:00:00+00:00", confirm=True)


@pytest.mark.parametrize(
    ("text", "key"),
    [("today", "strings.date_needs_time"), ("10/11/2025 10:00", "strings.date_too_old")],
)
def test_a_day_without_a_time_or_over_a_year_ago_is_asked_again(pack: Pack, text: str, key: str) -> None:
    assert validate("when_past", text, pack, NOW) == Rejected(key)


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("PC.Amy.Hart@Example.Police.UK", Accepted("pc.amy.hart@example.police.uk")),
        ("pc.amy.hart@west-midlands.pnn.police.uk", Accepted("pc.amy.hart@west-midlands.pnn.police.uk")),
        ("amy.hart@gmail.com", Rejected("strings.not_work_email")),
        ("amy hart", Rejected("strings.bad_email")),
        ("disability carers@west-midlands.pnn.police.uk", Rejected("strings.bad_email")),
    ],
)
def test_work_email(pack: Pack, text: str, result: object) -> None:
    assert validate("work_email", text, pack, NOW) == result


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("none", Accepted([])),
        ("no", Accepted([])),
        (
            "sam.lee@example.police.uk, jo.khan@example.police.uk and sam.lee@example.police.uk",
            Accepted(["sam.lee@example.police.uk", "jo.khan@example.police.uk"]),
        ),
        ("sam.lee@example.police.uk; bob@gmail.com", Rejected("strings.bad_email_list")),
        ("Sam and Jo", Rejected("strings.bad_email_list")),
    ],
)
def test_work_emails_or_none(pack: Pack, text: str, result: object) -> None:
    assert validate("work_emails_or_none", text, pack, NOW) == result


@pytest.mark.parametrize(
    ("text", "value"),
    [("yes", "yes"), ("Yep", "yes"), ("aye", "yes"), ("👍", "yes"), ("nope", "no"), ("No thanks", "no")],
)
def test_yes_no_synonyms(pack: Pack, text: str, value: str) -> None:
    assert validate("yes_no", text, pack, NOW) == Accepted(value)


@pytest.mark.parametrize("text", ["maybe", "dunno", "yes no", ""])
def test_unclear_yes_no_is_refused(pack: Pack, text: str) -> None:
    assert validate("yes_no", text, pack, NOW) == Rejected("strings.bad_yes_no")


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("20/123456/26", Accepted("20/123456/26")),
        ("  cr-2026  0042 ", Accepted("CR-2026 0042")),
        ("The suspect, a man in his 30s, punched PC Hart", Rejected("strings.bad_crime_reference")),
        ("#!", Rejected("strings.bad_crime_reference")),
    ],
)
def test_crime_reference(pack: Pack, text: str, result: object) -> None:
    assert validate("crime_reference", text, pack, NOW) == result


TIME_HINTS = ["help_occurred_at", "bad_date", "date_in_future", "date_too_old", "date_needs_time"]


@pytest.mark.parametrize("key", TIME_HINTS)
def test_every_time_the_bot_gives_as_an_example_is_understood(pack: Pack, key: str) -> None:
    examples = re.findall(r'"([^"]+)"', pack.text(f"strings.{key}"))
    assert examples, f"strings.{key} gives no example"
    for example in examples:
        result = validate("when_past", example, pack, NOW)
        assert isinstance(result, Accepted) and not result.confirm, f"{key}: {example!r} -> {result}"
