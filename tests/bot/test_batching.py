"""Group commit: callers that arrive together share a commit and each keeps its own outcome.

Concurrency is driven by events: the first commit is held in its worker thread until the others
have queued (`call_soon` runs after the tasks just created have reached their first await).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from bot.batching import Batcher


class Store:
    """A fake transaction log: which commits ran, with what; `hold` keeps the first one waiting."""

    def __init__(self, *, bad: set[str] | None = None, down: bool = False) -> None:
        self.commits: list[tuple[str, list[str]]] = []
        self.bad = bad or set()
        self.down = down
        self.started = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def hold(self) -> None:
        self.release.clear()

    def one(self, item: str) -> str:
        self.commits.append(("one", [item]))
        self.started.set()
        assert self.release.wait(10)
        if self.down:
            raise ConnectionError("no database")
        if item in self.bad:
            raise ValueError("bad item")
        return item.upper()

    def many(self, items: Sequence[str]) -> list[str]:
        self.commits.append(("many", list(items)))
        if self.down:
            raise ConnectionError("no database")
        if self.bad & set(items):
            raise ValueError("bad item")  # the whole transaction rolls back
        return [item.upper() for item in items]


async def _together(batcher: Batcher[str, str], store: Store, first: str, *others: str) -> list[object]:
    """Submit `first`; while its commit is held, the others; then let it finish."""
    store.hold()
    loop = asyncio.get_running_loop()
    leading = loop.create_task(batcher.submit(first))
    assert await asyncio.to_thread(store.started.wait, 10)
    following = [loop.create_task(batcher.submit(item)) for item in others]
    loop.call_soon(store.release.set)  # after the tasks above have queued their items
    return list(await asyncio.gather(leading, *following, return_exceptions=True))


def test_a_lone_caller_is_committed_at_once_by_itself() -> None:
    store = Store()
    batcher = Batcher(one=store.one, many=store.many)
    assert asyncio.run(batcher.submit("a")) == "A"
    assert store.commits == [("one", ["a"])]


def test_callers_arriving_during_a_commit_share_the_next_one_in_order() -> None:
    store = Store()
    batcher = Batcher(one=store.one, many=store.many)
    results = asyncio.run(_together(batcher, store, "a", "b", "c", "d"))
    assert results == ["A", "B", "C", "D"]
    assert store.commits == [("one", ["a"]), ("many", ["b", "c", "d"])]


def test_a_batch_holds_at_most_its_limit() -> None:
    store = Store()
    batcher = Batcher(one=store.one, many=store.many, limit=2)
    results = asyncio.run(_together(batcher, store, "a", "b", "c", "d", "e"))
    assert results == ["A", "B", "C", "D", "E"]
    assert store.commits == [("one", ["a"]), ("many", ["b", "c"]), ("many", ["d", "e"])]


def test_a_bad_item_fails_its_own_caller_only() -> None:
    store = Store(bad={"c"})
    batcher = Batcher(one=store.one, many=store.many)
    a, b, c, d = asyncio.run(_together(batcher, store, "a", "b", "c", "d"))
    assert (a, b, d) == ("A", "B", "D") and isinstance(c, ValueError)
    # The failed batch is committed again item by item.
    assert store.commits[1:] == [("many", ["b", "c", "d"]), ("one", ["b"]), ("one", ["c"]), ("one", ["d"])]


def test_a_database_that_is_down_fails_every_caller() -> None:
    store = Store(down=True)
    batcher = Batcher(one=store.one, many=store.many)
    results = asyncio.run(_together(batcher, store, "a", "b", "c"))
    assert [type(result) for result in results] == [ConnectionError] * 3
    with pytest.raises(ConnectionError):
        asyncio.run(batcher.submit("d"))


def test_a_caller_that_stops_waiting_leaves_the_others_their_results() -> None:
    store = Store()
    batcher = Batcher(one=store.one, many=store.many)

    async def scenario() -> list[object]:
        store.hold()
        loop = asyncio.get_running_loop()
        leading = loop.create_task(batcher.submit("a"))
        assert await asyncio.to_thread(store.started.wait, 10)
        gone, kept = loop.create_task(batcher.submit("b")), loop.create_task(batcher.submit("c"))
        loop.call_soon(gone.cancel)
        loop.call_soon(store.release.set)
        return list(await asyncio.gather(leading, gone, kept, return_exceptions=True))

    a, b, c = asyncio.run(scenario())
    assert (a, c) == ("A", "C") and isinstance(b, asyncio.CancelledError)
    assert store.commits == [("one", ["a"]), ("many", ["b", "c"])]  # b was committed all the same


def test_a_batcher_serves_one_event_loop_after_another() -> None:
    store = Store()
    batcher = Batcher(one=store.one, many=store.many)
    assert asyncio.run(batcher.submit("a")) == "A"
    assert asyncio.run(_together(batcher, store, "b", "c", "d")) == ["B", "C", "D"]


def test_an_executor_that_is_shut_down_fails_the_callers() -> None:
    from concurrent.futures import ThreadPoolExecutor

    store = Store()
    executor = ThreadPoolExecutor(max_workers=1)
    executor.shutdown()
    batcher = Batcher(one=store.one, many=store.many, executor=executor)
    with pytest.raises(RuntimeError):
        asyncio.run(batcher.submit("a"))
    assert store.commits == []


def test_callers_waiting_when_the_commits_are_cancelled_are_cancelled_too() -> None:
    store = Store()
    batcher = Batcher(one=store.one, many=store.many)

    async def scenario() -> list[object]:
        store.hold()
        loop = asyncio.get_running_loop()
        leading = loop.create_task(batcher.submit("a"))
        assert await asyncio.to_thread(store.started.wait, 10)
        following = loop.create_task(batcher.submit("b"))
        committing = batcher._committing
        assert committing is not None
        loop.call_soon(committing.cancel)  # the loop is shutting down
        results = list(await asyncio.gather(leading, following, return_exceptions=True))
        store.release.set()
        return results

    results = asyncio.run(scenario())
    assert [type(result) for result in results] == [asyncio.CancelledError] * 2
