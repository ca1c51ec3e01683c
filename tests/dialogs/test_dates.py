"""Dates in messages: the force's time zone, the pack's language (Babel and CLDR)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialogs.dates import format_when, when_text
from dialogs.notices import notice_replies
from dialogs.render import point_fact
from dialogs.schema import Pack

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def in_locale(pack: Pack, locale: str) -> Pack:
    return pack.model_copy(update={"meta": pack.meta.model_copy(update={"locale": locale})})


def test_dates_are_written_in_the_forces_time_zone() -> None:
    assert format_when(datetime(2026, 8, 1, 9, 0, tzinfo=UTC), timezone="Europe/London") == (
        "Sat 1 Aug 2026, 10:00"
    )
    assert format_when("2026-11-23T09:05:00+00:00", timezone="Europe/London") == "Mon 23 Nov 2026, 09:05"


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_when(datetime(2026, 11, 23, 9, 5), timezone="Europe/London")


@pytest.mark.parametrize(
    ("month", "welsh"),
    [
        (1, "Sad 10 Ion 2026"),
        (2, "Maw 10 Chwef 2026"),
        (4, "Gwen 10 Ebr 2026"),
        (6, "Mer 10 Meh 2026"),
        (7, "Gwen 10 Gorff 2026"),
        (8, "Llun 10 Awst 2026"),
        (9, "Iau 10 Medi 2026"),
        (10, "Sad 10 Hyd 2026"),
        (11, "Maw 10 Tach 2026"),
        (12, "Iau 10 Rhag 2026"),
    ],
)
def test_welsh_names_the_days_and_months_in_welsh(month: int, welsh: str) -> None:
    moment = datetime(2026, month, 10, 12, 0, tzinfo=UTC)
    assert format_when(moment, timezone="Europe/London", locale="cy").startswith(welsh)


def test_the_packs_locale_words_every_date_it_shows(pack: Pack) -> None:
    point = {"code": "crime_recorded", "instance": 1, "due": "2026-11-24T09:00:00+00:00", "owner": "io"}
    assert pack.meta.locale == "en_GB"
    assert "Tue 24 Nov 2026, 09:00" in point_fact(pack, point, NOW).value

    welsh = in_locale(pack, "cy")
    assert "Maw 24 Tach 2026, 09:00" in point_fact(welsh, point, NOW).value
    digest = {"cases": [{"reference": "OH-2026-0042", "points": [{**point, "point": 7}]}]}
    replies = notice_replies(welsh, "digest", digest, now=NOW)
    lines = " ".join([r.text for r in replies] + [f.value for r in replies for f in r.facts])
    assert "Maw 24 Tach 2026, 09:00" in lines and "Nov" not in lines


def test_nothing_stored_is_written_as_nothing(pack: Pack) -> None:
    assert when_text(pack, None) == "" and when_text(pack, "") == ""
    assert when_text(pack, datetime(2026, 12, 25, 12, 0, tzinfo=UTC)) == "Fri 25 Dec 2026, 12:00"
