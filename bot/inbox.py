"""Acknowledged work, stored and done in the background: a crash or a failure does not lose it.

The platform has had its acknowledgement (Slack answers within 3 seconds whatever the database
is doing), so `submit` returns at once: the work is written to the inbox straight away and then
done, in arrival order within one conversation. Finished work is deleted. Work that failed, or
that a crash cut short, is claimed again by `sweep` once its lease has run out, up to
`max_attempts`; after that it is kept as dead (without the person's words) and logged as an
error. Only the moment between the acknowledgement and the insert is unprotected. Handlers must
be idempotent, which the router's processed-event ids make them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from bot import messages
from bot.clock import Clock
from store import inbox as store

__all__ = ["Inbox"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Payload = dict[str, Any]


class Inbox:
    """One source's durable queue of acknowledged work, and the tasks running it.

    Args:
        process: does the work; raising leaves it for a later attempt.
        queue_of: the conversation a payload belongs to (its work runs in arrival order).
        redact: what to keep of a payload that is given up (ids, no words).
    """

    def __init__(
        self,
        *,
        source: str,
        sessions: sessionmaker[Session],
        clock: Clock,
        process: Callable[[Payload], Awaitable[None]],
        queue_of: Callable[[Payload], str],
        redact: Callable[[Payload], Payload],
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 5,
        sweep_every: float = 60.0,
    ) -> None:
        self.source = source
        self.sessions = sessions
        self.clock = clock
        self.process = process
        self.queue_of = queue_of
        self.redact = redact
        self.lease = lease
        self.max_attempts = max_attempts
        self.sweep_every = sweep_every
        # Its own threads, so that storing work never queues behind slow conversation turns.
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"{source}-inbox")
        self._tasks: set[asyncio.Task[None]] = set()
        self._tails: dict[str, asyncio.Future[None]] = {}
        self._sweeper: asyncio.Task[None] | None = None

    # --- running tasks --------------------------------------------------------------------------

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` in the background, keeping a reference until it ends; a failure is logged."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error(messages.background_failed(self.source, error))

    async def settle(self) -> None:
        """Wait until no background work is left (tests, shutdown)."""
        # Wait on the running tasks only. A finished task leaves `_tasks` in a done-callback, which
        # needs the loop; from Python 3.12 gathering tasks that are all finished returns without
        # yielding to it, so a loop over `gather(*self._tasks)` would spin for ever.
        while running := [task for task in self._tasks if not task.done()]:
            await asyncio.wait(running)

    async def _db(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call, *args)

    # --- doing the work -----------------------------------------------------------------------------

    def _receive(self, key: str, payload: Payload) -> int | None:
        with self.sessions.begin() as session:
            return store.receive(
                session=session,
                source=self.source,
                key=key,
                payload=payload,
                now=self.clock(),
                lease=self.lease,
            )

    def submit(self, key: str, payload: Payload) -> None:
        """Store the work and do it, in the background (call it once the platform has its answer)."""
        stored = asyncio.ensure_future(self._db(self._receive, key, payload))
        self._in_order(self.queue_of(payload), self._first_attempt(key, payload, stored))

    def _in_order(self, queue: str, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` once the work submitted before it for the same conversation has finished."""
        previous = self._tails.get(queue)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[queue] = mine

        async def run() -> None:
            try:
                if previous is not None:
                    await previous
                await work
            finally:
                mine.set_result(None)
                if self._tails.get(queue) is mine:
                    del self._tails[queue]

        self.spawn(run())

    async def _first_attempt(self, key: str, payload: Payload, stored: asyncio.Future[int | None]) -> None:
        try:
            item_id = await stored
        except Exception as error:
            log.error(messages.inbox_unavailable(self.source, key, error))
            item_id = None  # not stored: do it from memory rather than not at all
        else:
            if item_id is None:
                log.info(messages.inbox_duplicate(self.source, key))
                return
        await self._attempt(item_id, key, payload, 1)

    async def _attempt(self, item_id: int | None, key: str, payload: Payload, attempt: int) -> None:
        try:
            await self.process(payload)
        except Exception as error:
            log.error(messages.work_failed(self.source, key, attempt, error))
            if item_id is not None and attempt >= self.max_attempts:
                log.error(messages.work_given_up(self.source, key, attempt))
                await self._db(self._bury, item_id, self.redact(payload))
            return
        if item_id is not None:
            try:
                await self._db(self._complete, item_id)
            except Exception as error:
                # Done, but it will run again after its lease: handlers are idempotent.
                log.warning(messages.inbox_unavailable(self.source, key, error))

    def _complete(self, item_id: int) -> None:
        with self.sessions.begin() as session:
            store.complete(session=session, item_id=item_id)

    def _bury(self, item_id: int, payload: Payload) -> None:
        with self.sessions.begin() as session:
            store.bury(session=session, item_id=item_id, payload=payload)

    # --- recovering -----------------------------------------------------------------------------

    def _claim(self) -> list[store.Claimed]:
        with self.sessions.begin() as session:
            return store.claim_expired(
                session=session, source=self.source, now=self.clock(), lease=self.lease
            )

    async def sweep(self) -> int:
        """Run again the work whose lease ran out (left by a crash or a failure); how many were taken."""
        claimed = await self._db(self._claim)
        for item in claimed:
            self._in_order(
                self.queue_of(item.payload),
                self._attempt(item.id, item.dedupe_key, item.payload, item.attempts),
            )
        if claimed:
            log.warning(messages.work_recovered(self.source, len(claimed)))
        return len(claimed)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception as error:
                log.error(messages.inbox_unavailable(self.source, "sweep", error))
            await asyncio.sleep(self.sweep_every)

    def start(self) -> None:
        """Start sweeping now and every `sweep_every` seconds (work left by the last run goes first)."""
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def close(self) -> None:
        """Stop sweeping, let running work finish, release the threads."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        await self.settle()
        self._executor.shutdown(wait=True)
