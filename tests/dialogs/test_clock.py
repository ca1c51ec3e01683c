"""Plan clocks: working days over bank holidays, both clock changes, meetings, calendar months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialogs.clock import add_months, add_working_days, due_at, is_working_day, next_meeting, on_working_day
from dialogs.schema import DueRule, MeetingSpec

LONDON = ZoneInfo("Europe/London")


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def test_bank_holidays_are_not_working_days() -> None:
    assert not is_working_day(datetime(2026, 12, 25).date())
    assert not is_working_day(datetime(2026, 12, 28).date())  # Boxing Day moved to Monday
    assert not is_working_day(datetime(2026, 11, 21).date())  # a Saturday
    assert is_working_day(datetime(2026, 12, 29).date())


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (london(2026, 12, 24, 10, 0), 1, london(2026, 12, 29, 10, 0)),  # over Christmas and Boxing Day
        (london(2026, 12, 18, 14, 0), 5, london(2026, 12, 29, 14, 0)),
        (london(2026, 11, 23, 9, 0), 5, london(2026, 11, 30, 9, 0)),
        (london(2026, 11, 21, 15, 0), 1, london(2026, 11, 23, 23, 59)),  # Saturday: Monday counts
        (london(2027, 3, 25, 16, 0), 1, london(2027, 3, 30, 16, 0)),  # Good Friday, then Easter Monday
        (london(2027, 3, 26, 16, 0), 1, london(2027, 3, 30, 23, 59)),  # starting on Good Friday
    ],
)
def test_working_days(start: datetime, days: int, due: datetime) -> None:
    assert add_working_days(start, days, timezone="Europe/London") == due


def test_days_keep_the_wall_clock_across_the_spring_change() -> None:
    start = london(2027, 3, 25, 14, 0)  # GMT
    due = due_at(DueRule(days=7), start=start, timezone="Europe/London")
    assert due == datetime(2027, 4, 1, 13, 0, tzinfo=UTC)  # 14:00 BST
    assert due.astimezone(LONDON).hour == 14


def test_days_keep_the_wall_clock_across_the_autumn_change() -> None:
    start = london(2026, 10, 24, 12, 0)  # BST
    due = due_at(DueRule(days=1), start=start, timezone="Europe/London")
    assert due == datetime(2026, 10, 25, 12, 0, tzinfo=UTC)  # 12:00 GMT


def test_hours_are_elapsed_time_across_a_clock_change() -> None:
    start = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)  # 00:30 GMT, half an hour before the change
    assert due_at(DueRule(hours=1), start=start, timezone="Europe/London") == datetime(
        2027, 3, 28, 1, 30, tzinfo=UTC
    )


def test_a_due_time_in_the_spring_gap_moves_to_a_real_time() -> None:
    start = london(2027, 3, 27, 1, 30)
    due = due_at(DueRule(days=1), start=start, timezone="Europe/London")
    assert due == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 02:30 BST; 01:30 did not exist


def test_the_packs_calendar_decides_which_days_work() -> None:
    # St Andrew's Day (Monday 30 November 2026) is a bank holiday in Scotland, not in England.
    friday = london(2026, 11, 27, 10, 0)
    assert add_working_days(friday, 1, timezone="Europe/London") == london(2026, 11, 30, 10, 0)
    assert add_working_days(friday, 1, timezone="Europe/London", calendar="GB-SCT") == london(
        2026, 12, 1, 10, 0
    )
    assert not is_working_day(datetime(2026, 11, 30).date(), calendar="GB-SCT")


def test_no_working_days_is_the_start_itself() -> None:
    saturday = london(2026, 11, 21, 15, 0)
    assert add_working_days(saturday, 0, timezone="Europe/London") == saturday


def test_working_days_across_a_clock_change_keep_the_wall_clock() -> None:
    due = add_working_days(london(2026, 10, 23, 9, 0), 1, timezone="Europe/London")
    assert due.astimezone(UTC) == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


def test_next_meeting_weekly_and_fortnightly() -> None:
    weekly = MeetingSpec(weekday="monday", time="10:00", anchor="2026-01-05", min_notice_hours=0)
    assert next_meeting(london(2026, 11, 23, 9, 0), weekly, timezone="Europe/London") == london(
        2026, 11, 23, 10, 0
    )
    assert next_meeting(london(2026, 11, 23, 10, 0), weekly, timezone="Europe/London") == london(
        2026, 11, 30, 10, 0
    )
    fortnightly = MeetingSpec(
        weekday="wednesday", time="14:00", every_weeks=2, anchor="2026-11-04", min_notice_hours=0
    )
    assert next_meeting(london(2026, 11, 23, 9, 0), fortnightly, timezone="Europe/London") == london(
        2026, 12, 2, 14, 0
    )


def test_the_next_meeting_leaves_time_to_put_it_on_the_agenda() -> None:
    weekly = MeetingSpec(weekday="monday", time="10:00", anchor="2026-01-05", min_notice_hours=24)
    assert next_meeting(london(2026, 11, 23, 9, 0), weekly, timezone="Europe/London") == london(
        2026, 11, 30, 10, 0
    )
    assert next_meeting(london(2026, 11, 22, 9, 0), weekly, timezone="Europe/London") == london(
        2026, 11, 23, 10, 0
    )


def test_a_meeting_cadence_anchored_after_the_event_keeps_its_weeks() -> None:
    fortnightly = MeetingSpec(
        weekday="wednesday", time="14:00", every_weeks=2, anchor="2027-06-02", min_notice_hours=0
    )
    # 2 December 2026 is 26 weeks before the anchor, so a meeting week; 9 December is not.
    assert next_meeting(london(2026, 11, 26, 9, 0), fortnightly, timezone="Europe/London") == london(
        2026, 12, 2, 14, 0
    )
    assert next_meeting(london(2026, 12, 2, 14, 0), fortnightly, timezone="Europe/London") == london(
        2026, 12, 16, 14, 0
    )


def test_a_meeting_keeps_its_wall_clock_time_across_the_spring_change() -> None:
    weekly = MeetingSpec(weekday="monday", time="10:00", anchor="2026-01-05", min_notice_hours=24)
    meeting = next_meeting(london(2027, 3, 27, 12, 0), weekly, timezone="Europe/London")
    assert meeting == london(2027, 3, 29, 10, 0)
    assert meeting.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize(
    ("start", "months", "until"),
    [
        (london(2026, 11, 24, 10, 0), 3, datetime(2027, 2, 24, 10, 0, tzinfo=UTC)),
        (london(2026, 11, 30, 10, 0), 3, datetime(2027, 2, 28, 10, 0, tzinfo=UTC)),  # no 30 February
        (london(2027, 1, 31, 10, 0), 1, datetime(2027, 2, 28, 10, 0, tzinfo=UTC)),
        (london(2027, 1, 15, 10, 0), 3, datetime(2027, 4, 15, 9, 0, tzinfo=UTC)),  # 10:00 BST
        (london(2027, 10, 31, 10, 0), 13, datetime(2028, 11, 30, 10, 0, tzinfo=UTC)),  # across a year
    ],
)
def test_calendar_months_keep_the_day_and_the_wall_clock(
    start: datetime, months: int, until: datetime
) -> None:
    assert add_months(start, months, timezone="Europe/London") == until


def test_a_date_owed_to_a_victim_moves_on_and_a_deadline_of_theirs_moves_back() -> None:
    # Saturday 26 Dec 2026 is a weekend day after Christmas; Monday 28 Dec is the Boxing Day holiday.
    saturday = london(2026, 12, 26, 17, 0)
    later = on_working_day(saturday, timezone="Europe/London")
    earlier = on_working_day(saturday, timezone="Europe/London", earlier=True)
    assert later == london(2026, 12, 29, 17, 0)  # Tuesday: owed to them, never sooner than promised
    assert earlier == london(2026, 12, 24, 17, 0)  # Thursday: theirs to meet, never later than it is
    tuesday = london(2026, 12, 29, 9, 0)
    assert on_working_day(tuesday, timezone="Europe/London", earlier=True) == tuesday
