"""The inbox of acknowledged work, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from store.db import make_sessions
from store.inbox import bury, claim_expired, complete, complete_many, receive, receive_many
from store.models import InboxItem
from tests.conftest import START
from tests.store.race import two_at_once

LEASE = timedelta(minutes=2)


def test_work_is_received_once_and_forgotten_when_done(engine: Engine) -> None:
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        first = receive(
            session=session, source="slack", key="Ev1", payload={"text": "hi"}, now=START, lease=LEASE
        )
        again = receive(
            session=session, source="slack", key="Ev1", payload={"text": "hi"}, now=START, lease=LEASE
        )
        other = receive(session=session, source="msteams", key="Ev1", payload={}, now=START, lease=LEASE)
    assert first is not None and again is None and other is not None
    with sessions.begin() as session:
        complete(session=session, item_id=first)
    with sessions.begin() as session:
        assert session.scalars(select(InboxItem.source)).all() == ["msteams"]
        # Once done, the same key may arrive again (the router's processed events dedupe the turn).
        assert receive(session=session, source="slack", key="Ev1", payload={}, now=START, lease=LEASE)


def test_expired_work_is_claimed_by_one_sweep_only(engine: Engine) -> None:
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        item = receive(session=session, source="slack", key="Ev1", payload={"n": 1}, now=START, lease=LEASE)
        receive(session=session, source="slack", key="Ev2", payload={"n": 2}, now=START + LEASE, lease=LEASE)
    with sessions.begin() as session:
        assert claim_expired(session=session, source="slack", now=START + LEASE / 2, lease=LEASE) == []
    later = START + LEASE + timedelta(seconds=1)
    with sessions.begin() as session:
        [claimed] = claim_expired(session=session, source="slack", now=later, lease=LEASE)
    assert (claimed.id, claimed.dedupe_key, claimed.payload, claimed.attempts) == (item, "Ev1", {"n": 1}, 2)
    with sessions.begin() as session:  # leased again: another instance's sweep gets nothing
        assert claim_expired(session=session, source="slack", now=later, lease=LEASE) == []
        assert claim_expired(session=session, source="msteams", now=later + LEASE * 9, lease=LEASE) == []


def test_buried_work_is_kept_redacted_and_never_claimed(engine: Engine) -> None:
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        item = receive(
            session=session, source="slack", key="Ev1", payload={"text": "secret"}, now=START, lease=LEASE
        )
        assert item is not None
        bury(session=session, item_id=item, payload={"user": "U1"})
    with sessions.begin() as session:
        assert claim_expired(session=session, source="slack", now=START + LEASE * 10, lease=LEASE) == []
        row = session.scalars(select(InboxItem)).one()
        assert (row.status, row.payload) == ("dead", {"user": "U1"})


def test_work_received_together_is_stored_in_one_insert_and_forgotten_in_one_delete(engine: Engine) -> None:
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        waiting = receive(session=session, source="slack", key="Ev0", payload={}, now=START, lease=LEASE)
    with sessions.begin() as session:
        ids = receive_many(
            session=session,
            source="slack",
            work=[("Ev1", {"n": 1}), ("Ev0", {"n": 0}), ("Ev2", {"n": 2}), ("Ev1", {"n": "again"})],
            now=START,
            lease=LEASE,
        )
    first, already, second, again = ids
    assert already is None and again is None  # waiting already, or earlier in the same batch
    assert first is not None and second is not None and len({waiting, first, second}) == 3
    with sessions.begin() as session:
        stored = {row.id: row for row in session.scalars(select(InboxItem))}
        assert (stored[first].dedupe_key, stored[first].payload) == ("Ev1", {"n": 1})
        assert (stored[second].dedupe_key, stored[second].payload) == ("Ev2", {"n": 2})
        assert {(row.status, row.attempts, row.lease_until) for row in stored.values()} == {
            ("pending", 1, START + LEASE)
        }
    with sessions.begin() as session:
        complete_many(session=session, item_ids=[first, second])
    with sessions.begin() as session:
        assert session.scalars(select(InboxItem.dedupe_key)).all() == ["Ev0"]


def test_the_same_work_stored_by_two_instances_at_once_is_stored_once_without_an_error(
    engine: Engine,
) -> None:
    """A delivery two instances receive at the same moment: one stores it, the other is told it is
    waiting already (None), with no error to roll a batch back for (PostgreSQL: two connections)."""

    def store(session: Session, round_: int) -> int | None:
        work = [(f"Ev{round_}", {"n": round_}), (f"Ev{round_}-{threading.get_ident()}", {})]
        return receive_many(session=session, source="slack", work=work, now=START, lease=LEASE)[0]

    for first, second in two_at_once(engine, store):
        assert (first is None) != (second is None)
    with make_sessions(engine).begin() as session:
        keys = session.scalars(select(InboxItem.dedupe_key).where(~InboxItem.dedupe_key.contains("-"))).all()
        assert sorted(keys) == sorted(f"Ev{round_}" for round_ in range(10))


def test_work_stored_together_keeps_its_arrival_order_in_its_ids_and_nothing_is_stored_for_nothing(
    engine: Engine,
) -> None:
    """Work a crash cut short is taken up again in id order, so a person's messages stored together
    keep the order they came in, whatever their keys."""
    with make_sessions(engine).begin() as session:
        ids = receive_many(
            session=session,
            source="slack",
            work=[("Ev9", {}), ("Ev1", {}), ("Ev5", {})],
            now=START,
            lease=LEASE,
        )
        assert receive_many(session=session, source="slack", work=[], now=START, lease=LEASE) == []
    assert None not in ids and ids == sorted(ids)
