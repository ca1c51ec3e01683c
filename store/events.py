"""Processed platform events: each Slack event or Teams activity is handled once."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete
from sqlalchemy.orm import Session

from store.dialects import INSERTS
from store.models import ProcessedEvent

__all__ = ["forget_processed_before", "mark_processed"]

_EVENTS = cast(Table, ProcessedEvent.__table__)
#: One statement a turn, built once per dialect: a row inserted says the event is new, none that it
#: was seen (an INSERT's rowcount is only kept when asked for).
_MARK = {
    name: insert(_EVENTS)
    .on_conflict_do_nothing(index_elements=[_EVENTS.c.channel, _EVENTS.c.event_id])
    .execution_options(preserve_rowcount=True)
    for name, insert in INSERTS.items()
}


def mark_processed(*, session: Session, channel: str, event_id: str, now: datetime) -> bool:
    """Record that `event_id` is being handled; False if it already was (a retry or a resend).

    Call it in the same transaction as the work the event causes, so a crash forgets both. Two
    transactions racing on one event (two instances) cannot both be told it is new: PostgreSQL's
    ON CONFLICT waits for the other's insert to commit or roll back, and SQLite has one writer.
    """
    result = session.execute(
        _MARK[session.get_bind().dialect.name],
        {"channel": channel, "event_id": event_id, "processed_at": now},
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def forget_processed_before(*, session: Session, before: datetime) -> int:
    """Delete records older than `before` (platforms stop retrying after minutes, not days)."""
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.processed_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
