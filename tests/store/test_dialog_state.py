"""Dialog state: compare-and-swap saves and quarantine of unreadable rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dialogs.types import DialogState
from store.dialog_state import StaleStateError, load_state, save_state
from store.models import DialogStateRow
from tests.store.race import two_at_once

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KEY = "console::pc.amy.hart@example.police.uk"


def test_a_new_conversation_starts_empty_and_saves(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        loaded = load_state(session=session, key=KEY, now=NOW)
        assert (loaded.state, loaded.version, loaded.reset) == (DialogState(), 0, False)
        state = DialogState(flow="report_assault", step="victim_email", answers={"a": [1, "b"]})
        assert save_state(session=session, key=KEY, state=state, version=0, now=NOW) == 1
    with Session(engine) as session, session.begin():
        loaded = load_state(session=session, key=KEY, now=NOW)
        assert loaded.state == state and loaded.version == 1


def test_a_stale_save_is_refused(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        save_state(session=session, key=KEY, state=DialogState(), version=0, now=NOW)
        save_state(session=session, key=KEY, state=DialogState(flow="x"), version=1, now=NOW)
        with pytest.raises(StaleStateError):
            save_state(session=session, key=KEY, state=DialogState(flow="y"), version=1, now=NOW)
        with pytest.raises(StaleStateError):
            save_state(session=session, key=KEY, state=DialogState(flow="z"), version=0, now=NOW)


def test_an_unreadable_state_is_quarantined_not_lost(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.add(DialogStateRow(key=KEY, state='{"flow": 42, "garbage', version=3, updated_at=NOW))
    with Session(engine) as session, session.begin():
        loaded = load_state(session=session, key=KEY, now=NOW)
        assert (loaded.state, loaded.version, loaded.reset) == (DialogState(), 4, True)
    with Session(engine) as session:
        row = session.get(DialogStateRow, KEY)
        assert row is not None and row.quarantined == '{"flow": 42, "garbage'


def test_two_first_turns_of_a_conversation_at_once_save_one(engine: Engine) -> None:
    """A new conversation's first two messages on two instances (PostgreSQL: two connections)."""

    def first_save(session: Session, n: int) -> str:
        try:
            save_state(session=session, key=f"{KEY}:{n}", state=DialogState(flow="menu"), version=0, now=NOW)
        except StaleStateError:
            return "stale"
        return "saved"

    outcomes = two_at_once(engine, first_save)
    assert sorted(map(sorted, outcomes)) == [["saved", "stale"]] * len(outcomes)
