"""Processed events: a platform's retry of an event is recognised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from store.events import forget_processed_before, mark_processed
from tests.store.race import two_at_once

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


def test_two_transactions_racing_on_an_event_handle_it_once(engine: Engine) -> None:
    """Two instances given one event at once (PostgreSQL: two connections): one of them handles it."""
    outcomes = two_at_once(
        engine,
        lambda session, n: mark_processed(session=session, channel="slack", event_id=f"Ev{n}", now=NOW),
    )
    assert sorted(map(sorted, outcomes)) == [[False, True]] * len(outcomes)


def test_an_event_whose_turn_rolled_back_is_new_again(engine: Engine) -> None:
    with Session(engine) as session:
        session.begin()
        assert mark_processed(session=session, channel="slack", event_id="Ev1", now=NOW)
        session.rollback()
        with session.begin():
            assert mark_processed(session=session, channel="slack", event_id="Ev1", now=NOW)
            # A seen event leaves the transaction usable (PostgreSQL aborts one on a failed insert).
            assert not mark_processed(session=session, channel="slack", event_id="Ev1", now=NOW)
            assert mark_processed(session=session, channel="slack", event_id="Ev2", now=NOW)


@pytest.mark.postgres
def test_an_event_another_transaction_is_handling_waits_for_it(postgres_engine: Engine) -> None:
    """Not yet committed elsewhere is neither new nor seen: the second instance waits for the first."""
    with Session(postgres_engine) as first, first.begin():
        assert mark_processed(session=first, channel="slack", event_id="Ev1", now=NOW)
        with Session(postgres_engine) as second, second.begin():
            second.execute(text("SET LOCAL lock_timeout = '20ms'"))
            with pytest.raises(OperationalError):
                mark_processed(session=second, channel="slack", event_id="Ev1", now=NOW)
