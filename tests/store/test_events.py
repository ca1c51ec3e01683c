"""Processed events: a platform's retry of an event is recognised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from store.events import forget_processed_before, mark_processed

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_an_event_is_processed_once(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        assert mark_processed(session=session, channel="slack", event_id="Ev1", now=NOW)
        assert not mark_processed(session=session, channel="slack", event_id="Ev1", now=NOW)
        assert mark_processed(session=session, channel="msteams", event_id="Ev1", now=NOW)


def test_old_records_are_forgotten(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        mark_processed(session=session, channel="slack", event_id="old", now=NOW - timedelta(days=3))
        mark_processed(session=session, channel="slack", event_id="new", now=NOW)
        assert forget_processed_before(session=session, before=NOW - timedelta(days=2)) == 1
        assert mark_processed(session=session, channel="slack", event_id="old", now=NOW)
