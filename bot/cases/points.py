"""A plan point's state and clocks: the one place they change.

A point is `open` until someone (or the bot, on evidence) closes it as `done` or
`not_applicable`. While open it has three clocks: `due_at`, `remind_at` (the owner's next
reminder; snoozing moves it) and a pending escalation at `due_at + escalate_after` until
`escalated_at` is set. `next_nudge_at` is when the sweep must next look at it: the earlier of the
reminder and the pending escalation, and None once the point is closed. Every caller (the case
service for one point, the sweep for thousands) asks `change_point` for the columns a change
writes, so that invariant is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

__all__ = [
    "Close",
    "Open",
    "PointChange",
    "PointClock",
    "Reschedule",
    "Retire",
    "Snooze",
    "Sweep",
    "Timings",
    "change_point",
    "clock_of",
    "new_clock",
    "escalation_at",
]

PointStatus = Literal["open", "done", "not_applicable"]


@dataclass(frozen=True)
class PointClock:
    """What a point's next change depends on: its state, its clocks and its spec's timings."""

    status: str
    due_at: datetime
    remind_at: datetime | None = None
    escalated_at: datetime | None = None
    nudge_count: int = 0
    nudge_every: timedelta = timedelta(hours=24)
    escalate_after: timedelta | None = None


class Timings(Protocol):
    """How often a point (or an OPCC visit's step) is chased: a plan point's or a step's spec."""

    @property
    def nudge_every_hours(self) -> int: ...
    @property
    def escalate_after_hours(self) -> int | None: ...


def _timings(spec: Timings | None) -> dict[str, Any]:
    hours = spec.escalate_after_hours if spec is not None else None
    return {
        "nudge_every": timedelta(hours=spec.nudge_every_hours if spec else 24),
        "escalate_after": timedelta(hours=hours) if hours is not None else None,
    }


def clock_of(point: Any, spec: Timings | None) -> PointClock:
    """The clock of a stored point (an ORM row, or a plain row without `status` read as open)."""
    return PointClock(
        status=getattr(point, "status", "open"),
        due_at=point.due_at,
        remind_at=point.remind_at,
        escalated_at=point.escalated_at,
        nudge_count=point.nudge_count or 0,
        **_timings(spec),
    )


def new_clock(spec: Timings | None, due_at: datetime) -> PointClock:
    """The clock of a point about to be opened (`Open` then sets its columns)."""
    return PointClock(status="open", due_at=due_at, **_timings(spec))


@dataclass(frozen=True)
class Open:
    """A new point, due at `due_at` (reminded then; escalated later if the spec says so)."""

    due_at: datetime


@dataclass(frozen=True)
class Close:
    """Closed by a person (`by` their id) or by the bot on evidence (`by` None)."""

    status: Literal["done", "not_applicable"]
    by: int | None
    reason: str | None = None


@dataclass(frozen=True)
class Snooze:
    """The owner's next reminder put off until `until`; a pending escalation still runs on time."""

    until: datetime


@dataclass(frozen=True)
class Reschedule:
    """A new due time (an agreed update interval): reminded then, escalation counted from it."""

    due_at: datetime


@dataclass(frozen=True)
class Sweep:
    """The sweep looks at the point: remind if the reminder is due, escalate if that is."""


@dataclass(frozen=True)
class Retire:
    """The pack no longer has this point: stop waking it, keep the record."""


PointChange = Open | Close | Snooze | Reschedule | Sweep | Retire


def escalation_at(clock: PointClock) -> datetime | None:
    """When the point is escalated if still open, or None (no escalation, or done already)."""
    if clock.escalate_after is None or clock.escalated_at is not None:
        return None
    return clock.due_at + clock.escalate_after


def _wake(remind_at: datetime | None, escalate_at: datetime | None) -> datetime | None:
    moments = [m for m in (remind_at, escalate_at) if m is not None]
    return min(moments) if moments else None


def change_point(clock: PointClock, change: PointChange, *, now: datetime) -> dict[str, Any]:
    """The columns `change` writes to a point whose clock is `clock`, at `now`.

    A `Sweep` result holds `last_nudged_at` when a reminder is due now and `escalated_at` when an
    escalation is: the caller sends those. Nothing changes a closed point but `Retire`.
    """
    if isinstance(change, Retire):
        return {"next_nudge_at": None}
    if isinstance(change, Open):
        opened = PointClock(
            "open", change.due_at, change.due_at, None, 0, clock.nudge_every, clock.escalate_after
        )
        return {
            "status": "open",
            "due_at": change.due_at,
            "remind_at": change.due_at,
            "escalated_at": None,
            "nudge_count": 0,
            "next_nudge_at": _wake(change.due_at, escalation_at(opened)),
        }
    if clock.status != "open":
        return {}
    if isinstance(change, Close):
        return {
            "status": change.status,
            "done_at": now,
            "done_by_id": change.by,
            "na_reason": change.reason,
            "next_nudge_at": None,
        }
    if isinstance(change, Snooze):
        return {"remind_at": change.until, "next_nudge_at": _wake(change.until, escalation_at(clock))}
    if isinstance(change, Reschedule):
        fresh = PointClock(
            "open", change.due_at, change.due_at, None, 0, clock.nudge_every, clock.escalate_after
        )
        return {
            "due_at": change.due_at,
            "remind_at": change.due_at,
            "escalated_at": None,
            "next_nudge_at": _wake(change.due_at, escalation_at(fresh)),
        }
    columns: dict[str, Any] = {}
    remind_at = clock.remind_at
    if remind_at is not None and remind_at <= now:
        remind_at = now + clock.nudge_every
        columns.update(nudge_count=clock.nudge_count + 1, last_nudged_at=now, remind_at=remind_at)
    escalate_at = escalation_at(clock)
    if escalate_at is not None and escalate_at <= now:
        columns["escalated_at"] = now
        escalate_at = None
    columns["next_nudge_at"] = _wake(remind_at, escalate_at)
    return columns
