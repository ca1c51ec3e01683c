"""`hampshire demo seed`: a deterministic invented history that never joins real cases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.reports.demo import DemoRefused, seed_demo
from dialogs.schema import Pack
from store.db import make_engine, upgrade
from store.models import Case, Nudge, Person, PlanPoint
from store.people import ensure_person
from tests.bot.reports.history import NOW, SINCE, open_case


def _history(pack: Pack, folder: Path, seed_value: int) -> list[tuple[object, ...]]:
    folder.mkdir()
    engine = make_engine(f"sqlite:///{folder / f'demo-{seed_value}.db'}")
    upgrade(engine)
    with Session(engine) as session, session.begin():
        seed_demo(pack, session=session, cases=12, since=SINCE, now=NOW, seed=seed_value)
        session.flush()
        cases = session.scalars(select(Case).order_by(Case.id)).all()
        rows: list[tuple[object, ...]] = [
            (c.reference, c.kind, c.area, c.occurred_at, c.location, c.victim.email, c.status) for c in cases
        ]
        rows += [
            (p.case_id, p.code, p.instance, p.status, p.done_at)
            for p in session.scalars(select(PlanPoint).order_by(PlanPoint.id))
        ]
    engine.dispose()
    return rows


def test_the_same_seed_gives_the_same_history(pack: Pack, tmp_path: Path) -> None:
    first = _history(pack, tmp_path / "a", 3)
    again = _history(pack, tmp_path / "b", 3)
    other = _history(pack, tmp_path / "c", 4)
    assert first == again
    assert first != other


def test_the_history_is_invented_and_full(pack: Pack, sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session, session.begin():
        seed_demo(pack, session=session, cases=25, since=SINCE, now=NOW, seed=5)
        session.flush()
        emails = session.scalars(select(Person.email)).all()
        assert emails and all(e.endswith("@example.police.uk") for e in emails)
        cases = session.scalars(select(Case)).all()
        assert len(cases) == 25 and all(SINCE <= c.occurred_at < NOW for c in cases)
        statuses = {p.status for p in session.scalars(select(PlanPoint))}
        assert statuses == {"open", "done", "not_applicable"}
        late = session.scalars(select(PlanPoint).where(PlanPoint.done_at > PlanPoint.due_at)).all()
        assert late
        assert {n.status for n in session.scalars(select(Nudge))} == {"sent"}  # nothing left to send


def test_it_refuses_a_database_with_real_cases(pack: Pack, engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        open_case(pack, session, occurred=NOW, key="console:1")
    with Session(engine) as session, session.begin(), pytest.raises(DemoRefused):
        seed_demo(pack, session=session, cases=3, since=SINCE, now=NOW)
    with Session(engine) as session:
        assert len(session.scalars(select(Case)).all()) == 1


def test_it_leaves_the_outbox_s_other_messages_to_be_sent(pack: Pack, engine: Engine) -> None:
    """Only the history's own notices are marked sent: a real reminder waiting stays waiting."""
    with Session(engine) as session, session.begin():
        someone = ensure_person(session=session, email="sgt.ada.penn@example.police.uk", now=SINCE)
        for status in ("pending", "held"):
            session.add(Nudge(
                dedupe_key=f"real:{status}", kind="escalation", recipient_id=someone.id, due_slot=NOW,
                payload={"cases": []}, status=status, not_before=NOW, created_at=SINCE,
            ))  # fmt: skip
    with Session(engine) as session, session.begin():
        seed_demo(pack, session=session, cases=8, since=SINCE, now=NOW, seed=2)
    with Session(engine) as session:
        waiting = session.execute(select(Nudge.dedupe_key, Nudge.status).where(Nudge.status != "sent"))
        assert sorted(waiting) == [("real:held", "held"), ("real:pending", "pending")]
        assert session.scalar(select(Nudge.id).where(Nudge.channel == "demo")) is not None
