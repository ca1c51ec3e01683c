"""The rate budget in the database: a sliding window of `size` sends, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from store.ratebudget import Window, take_budget


def test_a_window_lets_size_sends_through_then_says_how_long_to_wait(engine: Engine) -> None:
    sessions = sessionmaker(engine)
    now = [1000.0]
    windows = [Window("slack:workspace:T0/60", 3, 60.0), Window("slack:dm:T0:U1/1", 10, 1.0)]

    def take(at: float, chosen: list[Window] = windows) -> float:
        now[0] = at
        with sessions.begin() as session:
            return take_budget(session=session, windows=chosen, clock=lambda: now[0])

    assert [take(1000.0), take(1010.0), take(1020.0)] == [0.0, 0.0, 0.0]
    assert take(1030.0) == 30.0  # the first send leaves the window at 1060
    assert take(1060.0) == 0.0
    assert take(1061.0) == 9.0  # the window now holds 1010 (gone), 1020, 1060: wait for 1070
    assert take(1070.0) == 0.0
    # A send refused by one window is counted in none: the DM window still has room for nine more.
    assert [take(1070.5, [windows[1]]) for _ in range(9)] == [0.0] * 9
    assert take(1070.6, [windows[1]]) > 0


def test_a_changed_limit_starts_its_window_afresh(engine: Engine) -> None:
    sessions = sessionmaker(engine)
    with sessions.begin() as session:
        assert take_budget(session=session, windows=[Window("w", 1, 60.0)], clock=lambda: 0.0) == 0.0
        assert take_budget(session=session, windows=[Window("w", 1, 60.0)], clock=lambda: 1.0) == 59.0
        assert take_budget(session=session, windows=[Window("w", 2, 60.0)], clock=lambda: 1.0) == 0.0
