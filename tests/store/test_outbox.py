"""Claiming the outbox: urgent rows first, and rows for people nobody can reach never in the way."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from store.models import Nudge
from store.outbox import claim, enqueue, hold_unreachable, outbox_row
from store.people import ensure_identity, ensure_person
from tests.conftest import START

NOW = START + timedelta(days=1)


def backlog(sessions: sessionmaker[Session], *, unreachable: int, reachable: int, urgent: int) -> None:
    """`unreachable` old rows for people with no channel, then `reachable` newer rows and `urgent`
    newest rows for people on Slack."""
    with sessions.begin() as session:
        rows = []
        for number in range(unreachable + reachable + urgent):
            person = ensure_person(session=session, email=f"pc.person{number}@example.police.uk", now=START)
            if number >= unreachable:
                ensure_identity(
                    session=session,
                    person=person,
                    channel="slack",
                    tenant="T0",
                    user_id=f"U{number}",
                    now=START,
                )
            rows.append(
                outbox_row(
                    kind="slt_new_case",
                    dedupe_key=f"notice:{number}",
                    recipient_id=person.id,
                    due_slot=START + timedelta(minutes=number),
                    payload={"reference": f"OH-2026-{number:04d}"},
                    now=START,
                    not_before=START,
                    urgent=number >= unreachable + reachable,
                )
            )
        enqueue(session=session, rows=rows)


def test_a_claim_takes_urgent_rows_first_and_skips_people_nobody_can_reach(engine: Engine) -> None:
    sessions = sessionmaker(engine)
    backlog(sessions, unreachable=1000, reachable=50, urgent=2)
    with sessions.begin() as session:
        rows = claim(
            session=session, now=NOW, worker="w1", lease=timedelta(minutes=5), limit=52, channels=["slack"]
        )
        taken = [row.dedupe_key for row in rows]
    assert taken[:2] == ["notice:1050", "notice:1051"]  # the newest, but urgent
    assert taken[2:] == [f"notice:{number}" for number in range(1000, 1050)]  # oldest first after them


def test_rows_for_people_nobody_can_reach_are_held_in_one_statement_and_released_when_they_can_be(
    engine: Engine,
) -> None:
    sessions = sessionmaker(engine)
    backlog(sessions, unreachable=1000, reachable=0, urgent=0)
    with sessions.begin() as session:
        assert len(hold_unreachable(session=session, now=NOW, channels=["slack"])) == 1000
        assert hold_unreachable(session=session, now=NOW, channels=["slack"]) == []
        assert (
            claim(
                session=session,
                now=NOW,
                worker="w1",
                lease=timedelta(minutes=5),
                limit=10,
                channels=["slack"],
            )
            == []
        )
        person = ensure_person(session=session, email="pc.person7@example.police.uk", now=NOW)
        ensure_identity(session=session, person=person, channel="slack", tenant="T0", user_id="U7", now=NOW)
    with sessions.begin() as session:
        [row] = claim(
            session=session, now=NOW, worker="w1", lease=timedelta(minutes=5), limit=10, channels=["slack"]
        )
        assert row.dedupe_key == "notice:7"
        held = session.scalar(select(func.count()).select_from(Nudge).where(Nudge.status == "held"))
    assert held == 999
