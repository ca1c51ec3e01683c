"""Group commit: concurrent writes of one kind share a transaction, each caller keeps its own outcome.

Under load every acknowledged message writes a few small rows of its own (the inbox insert before
the acknowledgement, the inbox delete of work done without a turn, the reply's claim and its
record), each in a transaction of its own run in a thread; on SQLite those transactions queue one by
one for the one writer. A `Batcher` turns the calls that arrive while a transaction is being
committed into the next one: `submit` queues the item and waits for its own result. Nothing waits
for company: with no commit under way an item is committed at once, alone, as it would be without
the batcher (no timer, no added wait). A batch that fails is committed again item by item, so a bad
item fails its own caller only; when the database is down every caller gets the error, before
anything is acknowledged. Results are handed back in the order the items were submitted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Generic, TypeVar

__all__ = ["Batcher"]

Item = TypeVar("Item")
Result = TypeVar("Result")


class Batcher(Generic[Item, Result]):
    """Commits submitted items together, one batch at a time, in a worker thread.

    Args:
        one: commits one item in a transaction of its own; its result (or exception) is the caller's.
        many: commits several items in one transaction; their results in the items' order. If it
            raises, nothing it did may be kept (the caller rolls back) and each item goes to `one`.
        executor: the threads the commits run in (None: the loop's default executor).
        limit: the most items in one transaction.
    """

    def __init__(
        self,
        *,
        one: Callable[[Item], Result],
        many: Callable[[Sequence[Item]], Sequence[Result]],
        executor: Executor | None = None,
        limit: int = 100,
    ) -> None:
        self.one = one
        self.many = many
        self.executor = executor
        self.limit = limit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._committing: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Commit `item` with whatever else is waiting; its result, or raise what its commit raised."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # another event loop (a test's, a restart's): nothing carries over
            self._loop, self._waiting, self._committing = loop, [], None
        future: asyncio.Future[Result] = loop.create_future()
        self._waiting.append((item, future))
        if self._committing is None:
            self._committing = loop.create_task(self._commit_waiting())
        return await future

    async def _commit_waiting(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.limit], self._waiting[self.limit :]
                try:
                    outcomes = await loop.run_in_executor(
                        self.executor, self._commit, [item for item, _ in batch]
                    )
                except (Exception, asyncio.CancelledError) as error:  # no executor, the loop stopping
                    cancelled = isinstance(error, asyncio.CancelledError)
                    for _, future in batch + self._waiting:
                        if future.done():
                            continue
                        if cancelled:
                            future.cancel()
                        else:
                            future.set_exception(error)
                    self._waiting = []
                    if cancelled:
                        raise
                    return
                for (_, future), (result, failure) in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue  # its caller stopped waiting (cancelled); the item is committed
                    if failure is None:
                        future.set_result(result)  # type: ignore[arg-type]
                    else:
                        future.set_exception(failure)
        finally:
            self._committing = None

    def _commit(self, items: list[Item]) -> list[tuple[Result | None, Exception | None]]:
        """In the worker thread: the items' outcomes, each a result or the exception it raised."""
        if len(items) > 1:
            try:
                return [(result, None) for result in self.many(items)]
            except Exception:
                pass  # each item is tried alone below, and keeps its own error
        outcomes: list[tuple[Result | None, Exception | None]] = []
        for item in items:
            try:
                outcomes.append((self.one(item), None))
            except Exception as error:
                outcomes.append((None, error))
        return outcomes
