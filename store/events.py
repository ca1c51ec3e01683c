"""Processed platform events: each Slack event or Teams activity is handled once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import ProcessedEvent

__all__ = ["forget_processed_before", "mark_processed"]


def mark_processed(*, session: Session, channel: str, event_id: str, now: datetime) -> bool:
    """Record that `event_id` is being handled; False if it already was (a retry or a resend).

    Call it in the same transaction as the work the event causes, so a crash forgets both.
    """
    if session.scalar(
        select(ProcessedEvent.event_id).where(
            ProcessedEvent.channel == channel, ProcessedEvent.event_id == event_id
        )
    ):
        return False
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(channel=channel, event_id=event_id, processed_at=now))
    except IntegrityError:
        return False
    return True


def forget_processed_before(*, session: Session, before: datetime) -> int:
    """Delete records older than `before` (platforms stop retrying after minutes, not days)."""
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.processed_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
