"""The inbox runner: stored, done in order per conversation, retried, failures logged."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select

from bot.inbox import Inbox
from store.db import make_sessions
from store.models import InboxItem
from tests.conftest import FakeClock, autocommit_of_statements


def _inbox(engine: Engine, clock: FakeClock, process: Any) -> Inbox:
    """An inbox doing its work with `process(payload)`, which has no transaction of its own."""

    async def work(payload: dict[str, Any], item_id: int) -> bool:
        await process(payload)
        return False

    return Inbox(
        source="test",
        sessions=make_sessions(engine),
        clock=clock,
        process=work,
        queue_of=lambda payload: str(payload["who"]),
        redact=lambda payload: {"who": payload["who"]},
    )


def _rows(engine: Engine) -> int:
    with make_sessions(engine).begin() as session:
        return int(session.scalar(select(func.count()).select_from(InboxItem)) or 0)


def test_work_of_one_conversation_runs_in_arrival_order(engine: Engine, clock: FakeClock) -> None:
    done: list[str] = []
    ben_done: asyncio.Event | None = None
    redelivered: asyncio.Event | None = None

    async def process(payload: dict[str, Any]) -> None:
        assert ben_done is not None and redelivered is not None
        if payload["n"] == "amy-1":
            # Amy's first piece of work ends only once Ben's is done (a handshake, not a sleep):
            # were Ben's queued behind Amy's, this would give up and Amy's would fail. It also waits
            # until the redelivery of its event has been received, so that arrives while it waits.
            await asyncio.wait_for(ben_done.wait(), 10)
            await asyncio.wait_for(redelivered.wait(), 10)
        done.append(payload["n"])
        if payload["n"] == "ben-1":
            ben_done.set()

    async def scenario() -> None:
        nonlocal ben_done, redelivered
        ben_done, redelivered = asyncio.Event(), asyncio.Event()
        loop = asyncio.get_running_loop()
        inbox = _inbox(engine, clock, process)
        receive = inbox._receive

        def receiving(key: str, payload: dict[str, Any]) -> int | None:
            stored = receive(key, payload)
            if payload["n"] == "amy-1 again":
                loop.call_soon_threadsafe(redelivered.set)
            return stored

        inbox._receive = receiving  # type: ignore[method-assign]
        assert await inbox.accept("k1", {"who": "amy", "n": "amy-1"})
        assert await inbox.accept("k2", {"who": "ben", "n": "ben-1"})
        assert await inbox.accept("k3", {"who": "amy", "n": "amy-2"})
        # A redelivery while amy-1 waits: already stored, so not run again.
        assert not await inbox.accept("k1", {"who": "amy", "n": "amy-1 again"})
        await inbox.close()

    asyncio.run(scenario())
    assert done.index("amy-1") < done.index("amy-2")
    assert done.index("ben-1") < done.index("amy-1")  # another person does not wait for Amy
    assert "amy-1 again" not in done
    assert _rows(engine) == 0


def test_failed_work_stays_for_the_sweep_and_failures_are_logged(
    engine: Engine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[int] = []

    async def process(payload: dict[str, Any]) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("database went away")

    async def broken() -> None:
        raise ValueError("never silent")

    async def scenario() -> None:
        inbox = _inbox(engine, clock, process)
        await inbox.accept("k1", {"who": "amy"})
        inbox.spawn(broken())
        await inbox.settle()
        assert _rows(engine) == 1
        clock.advance(minutes=3)
        assert await inbox.sweep() == 1
        await inbox.close()

    asyncio.run(scenario())
    assert len(attempts) == 2 and _rows(engine) == 0
    assert "test work k1 failed (attempt 1) with RuntimeError" in caplog.text
    assert "test background task failed with ValueError" in caplog.text
    assert "database went away" not in caplog.text and "never silent" not in caplog.text


def test_work_that_cannot_be_stored_is_refused_not_done_from_memory(
    engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import store.inbox

    def unavailable(**kwargs: Any) -> int | None:
        raise ConnectionError("no database")

    monkeypatch.setattr(store.inbox, "receive", unavailable)
    done: list[str] = []

    async def process(payload: dict[str, Any]) -> None:
        done.append(payload["who"])

    async def scenario() -> None:
        inbox = _inbox(engine, clock, process)
        with pytest.raises(ConnectionError):
            await inbox.accept("k1", {"who": "amy"})  # the channel answers an error status
        await inbox.close()

    asyncio.run(scenario())
    assert done == [] and _rows(engine) == 0


def test_settle_returns_when_the_only_tasks_left_have_just_finished(engine: Engine, clock: FakeClock) -> None:
    async def process(payload: dict[str, Any]) -> None:
        return None

    async def finished_already() -> None:
        return None

    async def scenario() -> None:
        inbox = _inbox(engine, clock, process)
        inbox.spawn(finished_already())
        await asyncio.sleep(0)  # the task runs to its end; the callback that forgets it is still queued
        [task] = inbox._tasks
        assert task.done()
        await inbox.settle()  # Python 3.12+: gather() of finished tasks never yields to that callback
        await inbox.close()

    # In a thread of its own so that a settle() that spins fails this test instead of hanging the run.
    runner = threading.Thread(target=asyncio.run, args=(scenario(),), daemon=True)
    runner.start()
    runner.join(30)
    assert not runner.is_alive(), "settle() never returned"


def test_work_arriving_together_is_stored_in_one_transaction_and_run_in_order(
    engine: Engine, clock: FakeClock
) -> None:
    done: list[str] = []
    batches: list[list[str]] = []
    started, release = threading.Event(), threading.Event()
    accepted: asyncio.Event | None = None

    async def process(payload: dict[str, Any]) -> None:
        # Not done (and so not deleted) before all have been received: the redelivery of k1 must
        # find it waiting.
        assert accepted is not None
        await asyncio.wait_for(accepted.wait(), 10)
        done.append(payload["n"])

    async def scenario() -> list[bool]:
        nonlocal accepted
        accepted = asyncio.Event()
        inbox = _inbox(engine, clock, process)
        receive, together = inbox._receive, inbox._receive_together

        def receiving(key: str, payload: dict[str, Any]) -> int | None:
            started.set()
            assert release.wait(10)  # held until the others have arrived
            return receive(key, payload)

        def receiving_together(work: Any) -> list[int | None]:
            batches.append([key for key, _ in work])
            return together(work)

        inbox._receive = receiving  # type: ignore[method-assign]
        inbox._receive_together = receiving_together  # type: ignore[method-assign]
        loop = asyncio.get_running_loop()
        first = loop.create_task(inbox.accept("k1", {"who": "amy", "n": "amy-1"}))
        assert await asyncio.to_thread(started.wait, 10)
        others = [
            loop.create_task(inbox.accept(key, payload))
            for key, payload in [
                ("k2", {"who": "amy", "n": "amy-2"}),
                ("k3", {"who": "ben", "n": "ben-1"}),
                ("k1", {"who": "amy", "n": "amy-1 again"}),
                ("k4", {"who": "amy", "n": "amy-3"}),
            ]
        ]
        loop.call_soon(release.set)
        answers = list(await asyncio.gather(first, *others))
        accepted.set()
        await inbox.close()
        return answers

    assert asyncio.run(scenario()) == [True, True, True, False, True]
    assert batches == [["k2", "k3", "k1", "k4"]]
    assert [n for n in done if n.startswith("amy")] == ["amy-1", "amy-2", "amy-3"]
    assert "ben-1" in done and _rows(engine) == 0  # each finished piece deleted


def test_work_arriving_together_is_refused_to_every_caller_when_the_database_is_down(
    engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import store.inbox

    started, release = threading.Event(), threading.Event()

    def unavailable(**kwargs: Any) -> Any:
        started.set()
        assert release.wait(10)
        raise ConnectionError("no database")

    monkeypatch.setattr(store.inbox, "receive", unavailable)
    monkeypatch.setattr(store.inbox, "receive_many", unavailable)
    done: list[str] = []

    async def process(payload: dict[str, Any]) -> None:
        done.append(payload["who"])

    async def scenario() -> list[BaseException | bool]:
        inbox = _inbox(engine, clock, process)
        loop = asyncio.get_running_loop()
        first = loop.create_task(inbox.accept("k1", {"who": "amy"}))
        assert await asyncio.to_thread(started.wait, 10)
        others = [loop.create_task(inbox.accept(key, {"who": "ben"})) for key in ("k2", "k3")]
        loop.call_soon(release.set)
        results = await asyncio.gather(first, *others, return_exceptions=True)
        await inbox.close()
        return results

    assert [type(result) for result in asyncio.run(scenario())] == [ConnectionError] * 3
    assert done == [] and _rows(engine) == 0


def test_work_its_own_transaction_deleted_takes_no_transaction_to_finish(
    engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import store.inbox

    sessions = make_sessions(engine)
    finished: list[object] = []
    monkeypatch.setattr(store.inbox, "complete", lambda **kwargs: finished.append(kwargs))
    monkeypatch.setattr(store.inbox, "complete_many", lambda **kwargs: finished.append(kwargs))

    async def turn(payload: dict[str, Any], item_id: int) -> bool:
        with sessions.begin() as session:  # as a turn given `finishes` does, with its own work
            session.execute(delete(InboxItem).where(InboxItem.id == item_id))
        return True

    async def scenario() -> None:
        inbox = Inbox(
            source="test",
            sessions=sessions,
            clock=clock,
            process=turn,
            queue_of=lambda payload: str(payload["who"]),
            redact=lambda payload: {"who": payload["who"]},
        )
        assert await inbox.accept("k1", {"who": "amy"})
        await inbox.close()

    asyncio.run(scenario())
    assert finished == [] and _rows(engine) == 0


@pytest.mark.postgres
def test_storing_and_deleting_work_on_postgresql_are_each_one_statement_committed_by_itself(
    postgres_engine: Engine, clock: FakeClock
) -> None:
    """The platform waits on the store: one round trip, with no `BEGIN` and `COMMIT` around it
    (psycopg sends none in autocommit), and the work is there for another instance at once. Work
    done without a transaction of its own is deleted the same way."""
    stored_rows: list[int] = []

    async def count(payload: dict[str, Any]) -> None:
        stored_rows.append(await asyncio.to_thread(_rows, postgres_engine))

    async def scenario() -> None:
        inbox = _inbox(postgres_engine, clock, count)
        try:
            assert await inbox.accept("k1", {"who": "amy", "n": "amy-1"})
            await inbox.settle()
        finally:
            await inbox.close()

    with autocommit_of_statements(postgres_engine) as autocommit:
        asyncio.run(scenario())
    # The insert, the count in a transaction of its own (read by the work), the delete.
    assert stored_rows == [1] and autocommit == [True, False, True]
    assert _rows(postgres_engine) == 0
