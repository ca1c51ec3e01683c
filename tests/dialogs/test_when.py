"""Reading incident times as people on shift type them: the table the issue asks for.

Each row is one expression read at six moments: the small hours of a Thursday (04:10, the case in
the issue), a night shift just after midnight (01:30 and 00:20 on the Friday), a Monday
afternoon, and the mornings after the clocks went back (25 October) and forward (29 March). A cell
is the local time it must be read as, " ?" when the reading is a guess that is confirmed before
storing, or why it is asked again: "future", "too old", "which time" (a day without a time) or
"unreadable".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialogs.when import read_when

LONDON = ZoneInfo("Europe/London")
NOWS = {
    "THU_0410": datetime(2026, 11, 26, 4, 10, tzinfo=LONDON),
    "FRI_0130": datetime(2026, 11, 27, 1, 30, tzinfo=LONDON),
    "FRI_0020": datetime(2026, 11, 27, 0, 20, tzinfo=LONDON),
    "MON_1500": datetime(2026, 11, 23, 15, 0, tzinfo=LONDON),
    "GMT_BEGINS": datetime(2026, 10, 25, 9, 0, tzinfo=LONDON),
    "BST_BEGINS": datetime(2026, 3, 29, 9, 0, tzinfo=LONDON),
}
PROBLEMS = {
    "future": "strings.date_in_future",
    "too old": "strings.date_too_old",
    "which time": "strings.date_needs_time",
    "unreadable": "strings.bad_date",
}

TABLE = [
    # (text, then the cell for each of NOWS in order)
    (
        "last night 3am",
        "2026-11-26 03:00",
        "future",
        "future",
        "2026-11-23 03:00",
        "2026-10-25 03:00",
        "2026-03-29 03:00",
    ),
    (
        "at 3",
        "2026-11-26 03:00 ?",
        "2026-11-26 15:00 ?",
        "2026-11-26 15:00 ?",
        "2026-11-23 15:00 ?",
        "2026-10-25 03:00 ?",
        "2026-03-29 03:00 ?",
    ),
    (
        "about 3 this morning",
        "2026-11-26 03:00",
        "future",
        "future",
        "2026-11-23 03:00",
        "2026-10-25 03:00",
        "2026-03-29 03:00",
    ),
    (
        "3 in the morning",
        "2026-11-26 03:00",
        "future",
        "future",
        "2026-11-23 03:00",
        "2026-10-25 03:00",
        "2026-03-29 03:00",
    ),
    (
        "yesterday 22:30",
        "2026-11-25 22:30",
        "2026-11-26 22:30",
        "2026-11-26 22:30",
        "2026-11-22 22:30",
        "2026-10-24 22:30",
        "2026-03-28 22:30",
    ),
    (
        "2230",
        "2026-11-25 22:30",
        "2026-11-26 22:30",
        "2026-11-26 22:30",
        "2026-11-22 22:30",
        "2026-10-24 22:30",
        "2026-03-28 22:30",
    ),
    (
        "22.30",
        "2026-11-25 22:30",
        "2026-11-26 22:30",
        "2026-11-26 22:30",
        "2026-11-22 22:30",
        "2026-10-24 22:30",
        "2026-03-28 22:30",
    ),
    (
        "11.30",
        "2026-11-25 23:30 ?",
        "2026-11-26 23:30 ?",
        "2026-11-26 23:30 ?",
        "2026-11-23 11:30 ?",
        "2026-10-24 23:30 ?",
        "2026-03-28 23:30 ?",
    ),
    (
        "9:15",
        "2026-11-25 21:15 ?",
        "2026-11-26 21:15 ?",
        "2026-11-26 21:15 ?",
        "2026-11-23 09:15 ?",
        "2026-10-24 21:15 ?",
        "2026-03-28 21:15 ?",
    ),
    (
        "half ten",
        "2026-11-25 22:30 ?",
        "2026-11-26 22:30 ?",
        "2026-11-26 22:30 ?",
        "2026-11-23 10:30 ?",
        "2026-10-24 22:30 ?",
        "2026-03-28 22:30 ?",
    ),
    (
        "half past ten",
        "2026-11-25 22:30 ?",
        "2026-11-26 22:30 ?",
        "2026-11-26 22:30 ?",
        "2026-11-23 10:30 ?",
        "2026-10-24 22:30 ?",
        "2026-03-28 22:30 ?",
    ),
    (
        "quarter past 9",
        "2026-11-25 21:15 ?",
        "2026-11-26 21:15 ?",
        "2026-11-26 21:15 ?",
        "2026-11-23 09:15 ?",
        "2026-10-24 21:15 ?",
        "2026-03-28 21:15 ?",
    ),
    (
        "quarter to 10",
        "2026-11-25 21:45 ?",
        "2026-11-26 21:45 ?",
        "2026-11-26 21:45 ?",
        "2026-11-23 09:45 ?",
        "2026-10-24 21:45 ?",
        "2026-03-28 21:45 ?",
    ),
    (
        "ten past 11pm",
        "2026-11-25 23:10",
        "2026-11-26 23:10",
        "2026-11-26 23:10",
        "2026-11-22 23:10",
        "2026-10-24 23:10",
        "2026-03-28 23:10",
    ),
    (
        "10 mins ago",
        "2026-11-26 04:00",
        "2026-11-27 01:20",
        "2026-11-27 00:10",
        "2026-11-23 14:50",
        "2026-10-25 08:50",
        "2026-03-29 08:50",
    ),
    (
        "20 minutes ago",
        "2026-11-26 03:50",
        "2026-11-27 01:10",
        "2026-11-27 00:00",
        "2026-11-23 14:40",
        "2026-10-25 08:40",
        "2026-03-29 08:40",
    ),
    (
        "an hour ago",
        "2026-11-26 03:10",
        "2026-11-27 00:30",
        "2026-11-26 23:20",
        "2026-11-23 14:00",
        "2026-10-25 08:00",
        "2026-03-29 08:00",
    ),
    (
        "half an hour ago",
        "2026-11-26 03:40",
        "2026-11-27 01:00",
        "2026-11-26 23:50",
        "2026-11-23 14:30",
        "2026-10-25 08:30",
        "2026-03-29 08:30",
    ),
    (
        "two hours ago",
        "2026-11-26 02:10",
        "2026-11-26 23:30",
        "2026-11-26 22:20",
        "2026-11-23 13:00",
        "2026-10-25 07:00",
        "2026-03-29 07:00",
    ),
    ("Tuesday", "which time", "which time", "which time", "which time", "which time", "which time"),
    (
        "Tuesday 10pm",
        "2026-11-24 22:00",
        "2026-11-24 22:00",
        "2026-11-24 22:00",
        "2026-11-17 22:00",
        "2026-10-20 22:00",
        "2026-03-24 22:00",
    ),
    (
        "last Friday at 9pm",
        "2026-11-20 21:00",
        "2026-11-20 21:00",
        "2026-11-20 21:00",
        "2026-11-20 21:00",
        "2026-10-23 21:00",
        "2026-03-27 21:00",
    ),
    ("earlier today", "which time", "which time", "which time", "which time", "which time", "which time"),
    (
        "earlier today at 3",
        "2026-11-26 03:00 ?",
        "future",
        "future",
        "2026-11-23 15:00 ?",
        "2026-10-25 03:00 ?",
        "2026-03-29 03:00 ?",
    ),
    ("today 1pm", "future", "future", "future", "2026-11-23 13:00", "future", "future"),
    ("yesterday", "which time", "which time", "which time", "which time", "which time", "which time"),
    (
        "yesterday at 3",
        "2026-11-25 15:00 ?",
        "2026-11-26 15:00 ?",
        "2026-11-26 15:00 ?",
        "2026-11-22 15:00 ?",
        "2026-10-24 15:00 ?",
        "2026-03-28 15:00 ?",
    ),
    (
        "yesterday evening 8",
        "2026-11-25 20:00",
        "2026-11-26 20:00",
        "2026-11-26 20:00",
        "2026-11-22 20:00",
        "2026-10-24 20:00",
        "2026-03-28 20:00",
    ),
    (
        "day before yesterday 14:00",
        "2026-11-24 14:00",
        "2026-11-25 14:00",
        "2026-11-25 14:00",
        "2026-11-21 14:00",
        "2026-10-23 14:00",
        "2026-03-27 14:00",
    ),
    ("last night", "which time", "which time", "which time", "which time", "which time", "which time"),
    ("tonight at 1", "2026-11-26 01:00", "2026-11-27 01:00", "future", "future", "future", "future"),
    (
        "tonight at 10",
        "2026-11-25 22:00",
        "2026-11-26 22:00",
        "2026-11-26 22:00",
        "future",
        "future",
        "future",
    ),
    (
        "now",
        "2026-11-26 04:10",
        "2026-11-27 01:30",
        "2026-11-27 00:20",
        "2026-11-23 15:00",
        "2026-10-25 09:00",
        "2026-03-29 09:00",
    ),
    (
        "just now",
        "2026-11-26 04:10",
        "2026-11-27 01:30",
        "2026-11-27 00:20",
        "2026-11-23 15:00",
        "2026-10-25 09:00",
        "2026-03-29 09:00",
    ),
    (
        "26/11/2026 03:00",
        "2026-11-26 03:00",
        "2026-11-26 03:00",
        "2026-11-26 03:00",
        "future",
        "future",
        "future",
    ),
    (
        "26/11 03:00",
        "2026-11-26 03:00",
        "2026-11-26 03:00",
        "2026-11-26 03:00",
        "future",
        "future",
        "2025-11-26 03:00 ?",
    ),
    (
        "26 Nov 3am",
        "2026-11-26 03:00",
        "2026-11-26 03:00",
        "2026-11-26 03:00",
        "future",
        "future",
        "2025-11-26 03:00 ?",
    ),
    (
        "Thu 26 Nov 22:30",
        "future",
        "2026-11-26 22:30",
        "2026-11-26 22:30",
        "future",
        "future",
        "2025-11-26 22:30 ?",
    ),
    (
        "2026-11-26 03:00",
        "2026-11-26 03:00",
        "2026-11-26 03:00",
        "2026-11-26 03:00",
        "future",
        "future",
        "future",
    ),
    (
        "2026-11-26T03:00:00+00:00",
        "2026-11-26 03:00",
        "2026-11-26 03:00",
        "2026-11-26 03:00",
        "future",
        "future",
        "future",
    ),
    (
        "10pm",
        "2026-11-25 22:00",
        "2026-11-26 22:00",
        "2026-11-26 22:00",
        "2026-11-22 22:00",
        "2026-10-24 22:00",
        "2026-03-28 22:00",
    ),
    (
        "3am",
        "2026-11-26 03:00",
        "2026-11-26 03:00",
        "2026-11-26 03:00",
        "2026-11-23 03:00",
        "2026-10-25 03:00",
        "2026-03-29 03:00",
    ),
    (
        "0300",
        "2026-11-26 03:00",
        "2026-11-26 03:00",
        "2026-11-26 03:00",
        "2026-11-23 03:00",
        "2026-10-25 03:00",
        "2026-03-29 03:00",
    ),
    (
        "at 15",
        "2026-11-25 15:00",
        "2026-11-26 15:00",
        "2026-11-26 15:00",
        "2026-11-23 15:00",
        "2026-10-24 15:00",
        "2026-03-28 15:00",
    ),
    (
        "midnight",
        "2026-11-26 00:00",
        "2026-11-27 00:00",
        "2026-11-27 00:00",
        "2026-11-23 00:00",
        "2026-10-25 00:00",
        "2026-03-29 00:00",
    ),
    (
        "noon",
        "2026-11-25 12:00",
        "2026-11-26 12:00",
        "2026-11-26 12:00",
        "2026-11-23 12:00",
        "2026-10-24 12:00",
        "2026-03-28 12:00",
    ),
    (
        "around 10:45pm",
        "2026-11-25 22:45",
        "2026-11-26 22:45",
        "2026-11-26 22:45",
        "2026-11-22 22:45",
        "2026-10-24 22:45",
        "2026-03-28 22:45",
    ),
    (
        "3ish",
        "2026-11-26 03:00 ?",
        "2026-11-26 15:00 ?",
        "2026-11-26 15:00 ?",
        "2026-11-23 15:00 ?",
        "2026-10-25 03:00 ?",
        "2026-03-29 03:00 ?",
    ),
    ("tomorrow", "future", "future", "future", "future", "future", "future"),
    ("in 3 days", "future", "future", "future", "future", "future", "future"),
    ("1st December", "future", "future", "future", "future", "future", "which time"),
    (
        "26/11/2025 22:30",
        "2025-11-26 22:30",
        "2025-11-26 22:30",
        "2025-11-26 22:30",
        "2025-11-26 22:30",
        "2025-11-26 22:30",
        "2025-11-26 22:30",
    ),
    ("10/11/2025 10:00", "too old", "too old", "too old", "too old", "2025-11-10 10:00", "2025-11-10 10:00"),
    (
        "the day the music died",
        "unreadable",
        "unreadable",
        "unreadable",
        "unreadable",
        "unreadable",
        "unreadable",
    ),
    ("32/13", "unreadable", "unreadable", "unreadable", "unreadable", "unreadable", "unreadable"),
    (
        "2 days ago at 9am",
        "2026-11-24 09:00",
        "2026-11-25 09:00",
        "2026-11-25 09:00",
        "2026-11-21 09:00",
        "2026-10-23 09:00",
        "2026-03-27 09:00",
    ),
]

CASES = [
    pytest.param(text, now_name, cell, id=f"{text}@{now_name}")
    for text, *cells in TABLE
    for now_name, cell in zip(NOWS, cells, strict=True)
]


def test_the_table_is_as_big_as_promised() -> None:
    assert len(TABLE) >= 40 and len(CASES) == len(TABLE) * len(NOWS)


@pytest.mark.parametrize(("text", "now_name", "cell"), CASES)
def test_time_expressions(text: str, now_name: str, cell: str) -> None:
    reading = read_when(text, now=NOWS[now_name], timezone="Europe/London")
    if cell in PROBLEMS:
        assert (reading.when, reading.problem) == (None, PROBLEMS[cell])
        return
    expected = datetime.strptime(cell.removesuffix(" ?"), "%Y-%m-%d %H:%M").replace(tzinfo=LONDON)
    assert reading.when == expected
    assert reading.when is not None and reading.when.utcoffset() == timedelta(0), "stored in UTC"
    assert reading.confirm is cell.endswith(" ?"), "a guess is confirmed; a plain reading is not"


def test_the_repeated_autumn_hour_is_read_as_the_first_one() -> None:
    # 01:30 happened twice on 25 October 2026; the first (BST, 00:30 UTC) is the one stored.
    reading = read_when("25/10/2026 01:30", now=NOWS["GMT_BEGINS"], timezone="Europe/London")
    assert reading.when == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_a_time_in_the_spring_gap_moves_on_rather_than_failing() -> None:
    # 01:30 never happened on 29 March 2026: the clocks went from 01:00 to 02:00.
    reading = read_when("01:30", now=NOWS["BST_BEGINS"], timezone="Europe/London")
    assert reading.when == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_the_force_zone_is_used_not_utc() -> None:
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert read_when("10am", now=summer, timezone="Europe/London").when == datetime(
        2026, 7, 1, 9, 0, tzinfo=UTC
    )
