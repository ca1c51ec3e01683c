"""The reply outbox: one row per turn, whichever of two racing transactions writes it; claims in one go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session

from store.db import make_sessions, one_statement_sessions
from store.models import QueuedReply
from store.replies import Lease, claim, queue, record, renew
from tests.store.race import two_at_once

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def payload(text: str) -> dict[str, object]:
    return {"replies": [{"key": "strings.menu", "text": text}], "address": {"user_id": "U1"}}


def test_a_turn_is_queued_once_and_keeps_its_first_replies(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        first = queue(session=session, key="slack:Ev1", channel="slack", payload=payload("one"), now=NOW)
        again = queue(session=session, key="slack:Ev1", channel="slack", payload=payload("two"), now=NOW)
        other = queue(session=session, key="slack:Ev2", channel="slack", payload=payload("three"), now=NOW)
    assert first == again != other and first.until is None
    with Session(engine) as session:
        row = session.get(QueuedReply, first.id)
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


def test_a_turn_queued_leased_is_held_by_its_sender_for_its_first_attempt(engine: Engine) -> None:
    """Queued as a claim would leave it: no other sender claims it, and only a new row is leased."""
    lease = Lease("slack-replies:a", NOW + timedelta(minutes=2))
    with Session(engine) as session, session.begin():
        held = queue(
            session=session, key="slack:Ev1", channel="slack", payload=payload("one"), now=NOW, lease=lease
        )
        again = queue(
            session=session, key="slack:Ev1", channel="slack", payload=payload("two"), now=NOW, lease=lease
        )
    assert held.until == lease.until and held.id == again.id and again.until is None
    with Session(engine) as session, session.begin():
        row = session.get(QueuedReply, held.id)
        assert row is not None
        assert (row.status, row.claimed_by, row.claimed_until, row.attempts) == (
            "sending",
            lease.worker,
            lease.until,
            1,
        )
        other = claim(
            session=session, channel="slack", now=NOW, worker="slack-replies:b", lease=timedelta(minutes=2)
        )
        assert other == []


def test_an_outcome_is_recorded_only_by_the_sender_still_holding_the_row(engine: Engine) -> None:
    lease = Lease("slack-replies:a", NOW + timedelta(minutes=2))
    with Session(engine) as session, session.begin():
        row_id = queue(
            session=session, key="slack:Ev1", channel="slack", payload=payload("one"), now=NOW, lease=lease
        ).id
    sent = {
        "status": "sent",
        "sent_at": NOW,
        "platform_message_id": "1.2",
        "claimed_by": None,
        "claimed_until": None,
    }
    with Session(engine) as session, session.begin():
        assert not record(session=session, row_id=row_id, worker="slack-replies:b", values=sent)
        assert record(session=session, row_id=row_id, worker=lease.worker, values=sent)
        assert not record(session=session, row_id=row_id, worker=lease.worker, values=sent)  # settled already
    with Session(engine) as session:
        row = session.get(QueuedReply, row_id)
        assert row is not None
        assert (row.status, row.platform_message_id, row.claimed_by, row.sent_at) == (
            "sent",
            "1.2",
            None,
            NOW,
        )


def _queued(engine: Engine, count: int) -> list[int]:
    with Session(engine) as session, session.begin():
        return [
            queue(session=session, key=f"slack:Ev{n}", channel="slack", payload=payload(str(n)), now=NOW).id
            for n in range(count)
        ]


def test_a_claim_and_a_renewal_are_each_one_statement(engine: Engine) -> None:
    """So that each commits by itself on PostgreSQL (`store.db.one_statement_sessions`): a look-up
    then an update would commit apart, and a row could be taken between them."""
    ids = _queued(engine, 3)
    statements: list[str] = []

    def sent(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    with Session(engine) as session, session.begin():
        session.connection()  # begun (SQLite's `BEGIN IMMEDIATE` is a statement of its own)
        event.listen(engine, "before_cursor_execute", sent)
        try:
            claimed = [
                row.id
                for row in claim(
                    session=session,
                    channel="slack",
                    now=NOW,
                    worker="w1",
                    lease=timedelta(minutes=2),
                    limit=2,
                )
            ]
            assert len(statements) == 1
            renewed = renew(session=session, ids=ids, now=NOW, worker="w1", lease=timedelta(minutes=5))
            assert len(statements) == 2
        finally:
            event.remove(engine, "before_cursor_execute", sent)
    assert claimed == ids[:2] and renewed == 2
    with Session(engine) as session:
        rows = {row.id: row for row in session.scalars(select(QueuedReply))}
    assert [(rows[i].status, rows[i].claimed_by, rows[i].attempts) for i in ids] == [
        ("sending", "w1", 1),
        ("sending", "w1", 1),
        ("pending", None, 0),
    ]
    assert rows[ids[0]].claimed_until == NOW + timedelta(minutes=5)


def test_two_senders_claiming_at_once_never_take_the_same_reply(engine: Engine) -> None:
    """Two instances' claims racing, each one statement committing by itself as the senders run
    them (PostgreSQL: two connections, the rows locked with `FOR UPDATE SKIP LOCKED`): every reply
    is taken, each by one sender."""
    ids = _queued(engine, 20)
    outcomes = two_at_once(
        engine,
        lambda session, n: [
            row.id
            for row in claim(
                session=session, channel="slack", now=NOW, worker=f"w{n}", lease=timedelta(minutes=2), limit=1
            )
        ],
        sessions=one_statement_sessions(make_sessions(engine)),
    )
    taken = [row_id for pair in outcomes for claimed in pair for row_id in claimed]
    assert sorted(taken) == ids


@pytest.mark.postgres
def test_a_claim_takes_no_more_than_its_limit_whichever_plan_postgresql_chooses(
    postgres_engine: Engine,
) -> None:
    """As `UPDATE … WHERE id IN (SELECT … LIMIT 1 FOR UPDATE SKIP LOCKED)`, a nested-loop semi join
    ran the subquery again for every row it updated, each run skipping the rows already taken and
    locking the next: a claim of one leased all six. The rows are chosen once, in a CTE."""
    ids = _queued(postgres_engine, 6)
    with Session(postgres_engine) as session, session.begin():
        # Leave the planner nothing but that nested loop.
        for setting in (
            "enable_hashjoin",
            "enable_mergejoin",
            "enable_material",
            "enable_hashagg",
            "enable_sort",
        ):
            session.execute(text(f"SET LOCAL {setting} = off"))
        claimed = [
            row.id
            for row in claim(
                session=session, channel="slack", now=NOW, worker="w1", lease=timedelta(minutes=2), limit=1
            )
        ]
    assert claimed == ids[:1]
    with Session(postgres_engine) as session:
        assert session.scalar(select(func.count()).where(QueuedReply.status == "pending")) == 5
