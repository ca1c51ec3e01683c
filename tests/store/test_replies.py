"""The reply outbox's queueing: one row per turn, whichever of two racing transactions writes it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from store.models import QueuedReply
from store.replies import queue
from tests.store.race import two_at_once

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def payload(text: str) -> dict[str, object]:
    return {"replies": [{"key": "strings.menu", "text": text}], "address": {"user_id": "U1"}}


def test_a_turn_is_queued_once_and_keeps_its_first_replies(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        first = queue(session=session, key="slack:Ev1", channel="slack", payload=payload("one"), now=NOW)
        again = queue(session=session, key="slack:Ev1", channel="slack", payload=payload("two"), now=NOW)
        other = queue(session=session, key="slack:Ev2", channel="slack", payload=payload("three"), now=NOW)
    assert first == again != other
    with Session(engine) as session:
        row = session.get(QueuedReply, first)
        assert row is not None
        assert (row.dedupe_key, row.channel, row.status, row.attempts) == ("slack:Ev1", "slack", "pending", 0)
        assert row.payload == payload("one") and row.not_before == row.created_at == NOW


def test_two_transactions_queueing_one_turn_share_its_row(engine: Engine) -> None:
    """A turn retried on two instances at once (PostgreSQL: two connections): one row, one id."""
    outcomes = two_at_once(
        engine,
        lambda session, n: queue(
            session=session, key=f"slack:Ev{n}", channel="slack", payload=payload(str(n)), now=NOW
        ),
    )
    assert all(first == second for first, second in outcomes)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(QueuedReply)) == len(outcomes)
