"""A plan point's state and clocks: every change, and the invariant they keep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.cases.points import (
    Close,
    Open,
    PointChange,
    PointClock,
    Reschedule,
    Retire,
    Snooze,
    Sweep,
    change_point,
    clock_of,
    escalation_at,
)
from dialogs.schema import Pack

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DUE = NOW + 24 * HOUR


def clock(**overrides: object) -> PointClock:
    values: dict[str, object] = {
        "status": "open",
        "due_at": DUE,
        "remind_at": DUE,
        "escalated_at": None,
        "nudge_count": 0,
        "nudge_every": 24 * HOUR,
        "escalate_after": 24 * HOUR,
    }
    values.update(overrides)
    return PointClock(**values)  # type: ignore[arg-type]


def test_an_opened_point_wakes_when_due() -> None:
    assert change_point(clock(), Open(DUE), now=NOW) == {
        "status": "open",
        "due_at": DUE,
        "remind_at": DUE,
        "escalated_at": None,
        "nudge_count": 0,
        "next_nudge_at": DUE,
    }


def test_a_closed_point_never_wakes_and_says_who_closed_it() -> None:
    assert change_point(clock(), Close("not_applicable", 7, "custody did it"), now=NOW) == {
        "status": "not_applicable",
        "done_at": NOW,
        "done_by_id": 7,
        "na_reason": "custody did it",
        "next_nudge_at": None,
    }
    assert change_point(clock(), Close("done", None), now=NOW)["done_by_id"] is None  # the bot


@pytest.mark.parametrize(
    "change", [Close("done", 1), Snooze(NOW + HOUR), Reschedule(NOW + HOUR), Sweep()], ids=repr
)
def test_nothing_changes_a_closed_point(change: PointChange) -> None:
    assert change_point(clock(status="done"), change, now=DUE + 100 * HOUR) == {}


def test_the_sweep_reminds_when_the_reminder_is_due_and_moves_it_on() -> None:
    change = change_point(clock(nudge_count=2), Sweep(), now=DUE + HOUR)
    assert change == {
        "nudge_count": 3,
        "last_nudged_at": DUE + HOUR,
        "remind_at": DUE + 25 * HOUR,
        "next_nudge_at": DUE + 24 * HOUR,  # the escalation comes first
    }


def test_the_sweep_escalates_once() -> None:
    at = DUE + 24 * HOUR
    change = change_point(clock(remind_at=at + 5 * HOUR), Sweep(), now=at)
    assert change == {"escalated_at": at, "next_nudge_at": at + 5 * HOUR}
    escalated = clock(remind_at=at + 5 * HOUR, escalated_at=at)
    assert escalation_at(escalated) is None
    assert "escalated_at" not in change_point(escalated, Sweep(), now=at + HOUR)


def test_before_anything_is_due_the_sweep_only_sets_the_wake_up() -> None:
    assert change_point(clock(), Sweep(), now=NOW) == {"next_nudge_at": DUE}


def test_a_point_without_escalation_wakes_for_its_reminders_only() -> None:
    change = change_point(clock(escalate_after=None), Sweep(), now=DUE)
    assert change["next_nudge_at"] == DUE + 24 * HOUR


def test_snoozing_keeps_the_escalation_on_time() -> None:
    assert change_point(clock(), Snooze(DUE + 48 * HOUR), now=NOW) == {
        "remind_at": DUE + 48 * HOUR,
        "next_nudge_at": DUE + 24 * HOUR,
    }
    assert change_point(clock(), Snooze(DUE + HOUR), now=NOW)["next_nudge_at"] == DUE + HOUR


def test_rescheduling_restarts_the_points_clocks() -> None:
    later = DUE + 100 * HOUR
    assert change_point(clock(escalated_at=DUE), Reschedule(later), now=NOW) == {
        "due_at": later,
        "remind_at": later,
        "escalated_at": None,
        "next_nudge_at": later,
    }


def test_a_point_the_pack_no_longer_has_stops_waking() -> None:
    assert change_point(clock(), Retire(), now=NOW) == {"next_nudge_at": None}


def test_the_clock_of_a_stored_point_takes_its_specs_timings(pack: Pack) -> None:
    spec = pack.plan.point("chief_officer_notified_via_fim")
    assert spec is not None

    class Row:
        due_at, remind_at, escalated_at, nudge_count = DUE, DUE, None, 1

    read = clock_of(Row(), spec)
    assert (read.status, read.nudge_every, read.escalate_after, read.nudge_count) == ("open", HOUR, HOUR, 1)
