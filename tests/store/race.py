"""Two transactions at once: a store function raced against itself (PostgreSQL: two connections)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from store.db import make_sessions

T = TypeVar("T")


def two_at_once(
    engine: Engine,
    attempt: Callable[[Session, int], T],
    rounds: int = 10,
    *,
    sessions: sessionmaker[Session] | None = None,
) -> list[tuple[T, T]]:
    """Run `attempt(session, round)` in two threads' transactions, started together each round.

    Returns each round's two results. An exception in either thread fails the caller. `sessions`:
    the sessions to run in (default: the engine's transactional ones).
    """
    sessions = sessions or make_sessions(engine)
    start = threading.Barrier(2)
    results: list[dict[int, T]] = [{}, {}]
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for round_ in range(rounds):
                start.wait()
                with sessions.begin() as session:
                    results[worker][round_] = attempt(session, round_)
        except BaseException as error:  # reported by the caller's assert
            start.abort()
            errors.append(error)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return [(results[0][round_], results[1][round_]) for round_ in range(rounds)]
