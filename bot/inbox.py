"""Acknowledged work, stored and done in the background: a crash or a failure does not lose it.

Persist, acknowledge, process: `store` commits the work in its own transaction before the
platform gets its answer, and raises when it cannot (the database is down), so the channel answers
an error status and the platform delivers it again; it is never acknowledged and then dropped.
Once the platform has its answer, `run` does the work in the background, in arrival order within
one conversation. Finished work is deleted: by the work's own transaction when it has one (a
conversation turn deletes it as it commits, and `process` says so), else in a transaction here.
Work that failed, or that a crash cut short, is claimed again by `sweep` once its lease has run
out, up to `max_attempts`; after that it is kept as dead (without the person's words) and logged
as an error. Handlers must be idempotent, which the
router's processed-event ids make them. Storing and deleting are group-committed (`bot.batching`):
work arriving while another piece is being stored shares the next transaction, and each caller
still has its own answer (or error) before the platform has its. Each is one statement, which on
PostgreSQL commits by itself (`store.db.one_statement_sessions`: no `BEGIN` and `COMMIT` round trips).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from bot import messages
from bot.batching import Batcher
from bot.clock import Clock
from store import inbox as stored_work
from store.db import one_statement_sessions

__all__ = ["Inbox"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Payload = dict[str, Any]
#: Does one piece of work, given its id; True when the work's own transaction deleted it from the
#: inbox (`store.inbox.complete`), so that finishing it takes no transaction of its own.
Process = Callable[[Payload, int], Awaitable[bool]]


class Inbox:
    """One source's durable queue of acknowledged work, and the tasks running it.

    Args:
        process: does the work (`Process`); raising leaves it for a later attempt (unless its
            own transaction had deleted it already: it must not raise after that).
        queue_of: the conversation a payload belongs to (its work runs in arrival order).
        redact: what to keep of a payload that is given up (ids, no words).
        recover: run at every sweep too (the channel's replies left unsent by a crash).
    """

    def __init__(
        self,
        *,
        source: str,
        sessions: sessionmaker[Session],
        clock: Clock,
        process: Process,
        queue_of: Callable[[Payload], str],
        redact: Callable[[Payload], Payload],
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 5,
        sweep_every: float = 60.0,
        recover: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.source = source
        self.sessions = sessions
        # Storing is one INSERT and deleting one DELETE, for one piece of work or several: no
        # transaction around them.
        self._one_statement = one_statement_sessions(sessions)
        self.clock = clock
        self.process = process
        self.queue_of = queue_of
        self.redact = redact
        self.lease = lease
        self.max_attempts = max_attempts
        self.sweep_every = sweep_every
        self.recover = recover
        # Its own threads, so that storing work never queues behind slow conversation turns.
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"{source}-inbox")
        # Each batcher commits one batch at a time: with two threads, storing work (the platform
        # waits on it) never queues behind deleting finished work.
        self._receiving: Batcher[tuple[str, Payload], int | None] = Batcher(
            one=lambda work: self._receive(*work),
            many=lambda work: self._receive_together(work),
            executor=self._executor,
        )
        self._completing: Batcher[int, None] = Batcher(
            one=lambda item_id: self._complete(item_id),
            many=lambda item_ids: self._complete_together(item_ids),
            executor=self._executor,
        )
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
        with self._one_statement.begin() as session:
            return stored_work.receive(
                session=session,
                source=self.source,
                key=key,
                payload=payload,
                now=self.clock(),
                lease=self.lease,
            )

    def _receive_together(self, work: Sequence[tuple[str, Payload]]) -> list[int | None]:
        with self._one_statement.begin() as session:
            return stored_work.receive_many(
                session=session, source=self.source, work=work, now=self.clock(), lease=self.lease
            )

    async def store(self, key: str, payload: Payload) -> int | None:
        """Commit the work (before the platform is answered); None when it is already waiting.

        Raises whatever the database raised: the work is not stored, so the platform must not be
        told it was (answer an error status and it delivers the work again).
        """
        return await self._receiving.submit((key, payload))

    def run(self, item_id: int, key: str, payload: Payload) -> None:
        """Do stored work in the background, after the work submitted before it for its conversation."""
        self._in_order(self.queue_of(payload), self._attempt(item_id, key, payload, 1))

    async def accept(self, key: str, payload: Payload) -> bool:
        """Store the work, then do it in the background; False when it was already waiting."""
        item_id = await self.store(key, payload)
        if item_id is None:
            log.info(messages.inbox_duplicate(self.source, key))
            return False
        self.run(item_id, key, payload)
        return True

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

    async def _attempt(self, item_id: int, key: str, payload: Payload, attempt: int) -> None:
        try:
            removed = await self.process(payload, item_id)
        except Exception as error:
            log.error(messages.work_failed(self.source, key, attempt, error))
            if attempt >= self.max_attempts:
                log.error(messages.work_given_up(self.source, key, attempt))
                try:
                    await self._db(self._bury, item_id, self.redact(payload))
                except Exception as unavailable:
                    log.error(messages.inbox_unavailable(self.source, key, unavailable))
            return
        if removed:
            return
        try:
            await self._completing.submit(item_id)
        except Exception as error:
            # Done, but it will run again after its lease: handlers are idempotent.
            log.warning(messages.inbox_unavailable(self.source, key, error))

    def _complete(self, item_id: int) -> None:
        with self._one_statement.begin() as session:
            stored_work.complete(session=session, item_id=item_id)

    def _complete_together(self, item_ids: Sequence[int]) -> list[None]:
        with self._one_statement.begin() as session:
            stored_work.complete_many(session=session, item_ids=item_ids)
        return [None] * len(item_ids)

    def _bury(self, item_id: int, payload: Payload) -> None:
        with self.sessions.begin() as session:
            stored_work.bury(session=session, item_id=item_id, payload=payload)

    # --- recovering -----------------------------------------------------------------------------

    def _claim(self) -> list[stored_work.Claimed]:
        with self.sessions.begin() as session:
            return stored_work.claim_expired(
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
                if self.recover is not None:
                    await self.recover()
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
