"""Reading incident times as people on shift type them: the table the issue asks for.

The table is `when_table.md` beside this file, kept as a document a force can review: one row per
expression, one column per moment in NOWS (night shifts across midnight, both clock changes).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
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
    [cell.strip() for cell in line.strip().strip("|").split("|")]
    for line in (Path(__file__).parent / "when_table.md").read_text(encoding="utf-8").splitlines()
    if line.startswith("| ") and not line.startswith("| typed")
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


@pytest.mark.parametrize(
    ("text", "now", "expected", "confirm"),
    [
        # The reviewer's cases, at the moments they were found (Thu 22:20 and Fri 00:10).
        ("about 22:30", datetime(2026, 11, 26, 22, 20, tzinfo=LONDON), datetime(2026, 11, 25, 22, 30), True),
        ("2230", datetime(2026, 11, 26, 22, 20, tzinfo=LONDON), datetime(2026, 11, 25, 22, 30), True),
        ("10.30pm", datetime(2026, 11, 26, 22, 20, tzinfo=LONDON), datetime(2026, 11, 25, 22, 30), True),
        (
            "last night 12:30",
            datetime(2026, 11, 27, 0, 10, tzinfo=LONDON),
            datetime(2026, 11, 26, 0, 30),
            True,
        ),
        (
            "yesterday evening 11:30",
            datetime(2026, 11, 27, 0, 10, tzinfo=LONDON),
            datetime(2026, 11, 26, 23, 30),
            False,
        ),
        (
            "last night 11:30",
            datetime(2026, 11, 27, 0, 10, tzinfo=LONDON),
            datetime(2026, 11, 26, 23, 30),
            False,
        ),
        (
            "tonight 11:15",
            datetime(2026, 11, 27, 0, 10, tzinfo=LONDON),
            datetime(2026, 11, 26, 23, 15),
            False,
        ),
    ],
)
def test_a_part_of_the_day_or_a_time_just_ahead_is_never_stored_wrong_silently(
    text: str, now: datetime, expected: datetime, confirm: bool
) -> None:
    reading = read_when(text, now=now, timezone="Europe/London")
    assert (reading.when, reading.confirm) == (expected.replace(tzinfo=LONDON), confirm)
