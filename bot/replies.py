"""A turn's replies in the outbox: written in the turn's own transaction, then sent exactly once.

The router queues a turn's replies as one outbox row (`store.replies`) in the transaction that
saves the turn's state and its event id, so the reply exists exactly when the turn does: a crash
after the commit leaves a row that `ReplySender` sends later, and a retry of the event, which the
event id turns away, answers nothing twice. Sending follows the reminders' delivery
(`bot.reminders.delivery`): a lease per row, the channel's `send` (its retries and Retry-After),
each outcome recorded, and a send whose outcome is unknown looked up on the platform (the
message's metadata key) before anything is sent again. The console shows its replies at once and
records them as delivered. On a channel that can read a send back (Slack), each turn is given its
sender's lease (`ReplySender.turn_lease`), so the turn commits its row already claimed for the first
attempt and the sender sends it with no transaction of its own before the send; a crash between the
commit and the send leaves a lapsing lease, looked up like any other. On one that cannot (Teams),
the rows wait pending, so one a crash left unsent is sent later: a sweep (`run_once`) leaves a
new row queued without a lease (Teams', an apology) to its turn for a lease, counted from the
turn's start, and sends it only if the turn did not. Claims of rows queued
without a lease, and records of outcomes, are group-committed (`bot.batching`): turns finishing
together share those transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Row
from sqlalchemy.orm import Session, sessionmaker

from bot import messages
from bot.batching import Batcher
from bot.channels.inbound import Inbound
from bot.channels.outbound import Address, Channel, Delivery
from bot.channels.port import ReplyLease, Turned
from bot.clock import Clock
from bot.reminders.delivery import UNCERTAIN_RECHECK, UNCONFIRMED, DeliveryReport
from dialogs.types import Reply
from store import replies as outbox
from store.db import one_statement_sessions

__all__ = ["ReplySender", "queue_replies", "replies_of", "reply_key", "take_replies"]

log = logging.getLogger(__name__)


def _address(inbound: Inbound) -> Address:
    """Where a turn's replies go: back to the conversation `inbound` came from."""
    return Address(inbound.channel, inbound.tenant, inbound.user_id, dict(inbound.address or {}))


def queue_replies(
    *,
    session: Session,
    inbound: Inbound,
    turn_id: str,
    replies: Sequence[Reply],
    now: datetime,
    lease: ReplyLease | None = None,
) -> outbox.Queued | None:
    """Queue `replies` to `inbound`'s conversation in the caller's transaction; the row.

    None when there is nothing to say. The row is keyed by the turn, so it is queued once. With
    `lease`, a new row is queued held by that sender (`ReplySender.send_turn` sends it).
    """
    if not replies:
        return None
    to = _address(inbound)
    payload: dict[str, Any] = {
        "replies": [reply.model_dump(mode="json") for reply in replies],
        "address": {"tenant": to.tenant, "user_id": to.user_id, "address": to.data},
    }
    key = f"{inbound.channel}:{turn_id}"
    held = None if lease is None else outbox.Lease(lease.worker, now + lease.length)
    return outbox.queue(
        session=session, key=key, channel=inbound.channel, payload=payload, now=now, lease=held
    )


def replies_of(payload: dict[str, Any]) -> list[Reply]:
    """The replies a queued row carries, in order."""
    return [Reply.model_validate(reply) for reply in payload.get("replies") or []]


def reply_key(reply_id: int) -> str:
    """The key a reply's messages carry (Slack metadata), to look them up after a crash."""
    return f"hampshire-reply-{reply_id}"


def take_replies(*, sessions: sessionmaker[Session], ids: Sequence[int], now: datetime) -> list[Reply]:
    """Queued replies shown in-process (the console): their replies, recorded as delivered."""
    if not ids:
        return []
    with sessions.begin() as session:
        rows = outbox.take(session=session, ids=ids, now=now, shown_on="console")
        return [reply for row in rows for reply in replies_of(row.payload)]


@dataclass(frozen=True)
class _Job:
    id: int
    address: Address
    replies: list[Reply]
    attempts: int
    created_at: datetime


def _job(row: Row[Any]) -> _Job:
    where = row.payload["address"]
    address = Address(row.channel, where["tenant"], where["user_id"], dict(where.get("address") or {}))
    return _Job(row.id, address, replies_of(row.payload), row.attempts, row.created_at)


@dataclass(frozen=True)
class _Outcome:
    """What became of a job: a send's `delivery`, or what a look-up `found` (and its message id)."""

    job: _Job
    delivery: Delivery | None = None
    found: str | None = None
    message_id: str | None = None


#: What a recorded outcome counts as in the report; None when the row was not this sender's to record.
_Counted = Literal["sent", "uncertain", "retrying", "failed", "reconciled", "unconfirmed"] | None


def _settled(outcome: _Outcome, now: datetime, *, max_attempts: int) -> tuple[dict[str, Any], _Counted]:
    """A row's new column values once `outcome` is known (its lease given up), and what it counts as."""
    values: dict[str, Any] = {"claimed_by": None, "claimed_until": None}
    delivery = outcome.delivery
    if delivery is None:  # a look-up's finding
        if outcome.found == "found":
            values.update(status="sent", sent_at=now, platform_message_id=outcome.message_id)
            return values, "reconciled"
        values.update(status="unconfirmed", last_error=UNCONFIRMED)
        return values, "unconfirmed"
    values["last_error"] = delivery.error
    if delivery.status == "sent":
        values.update(status="sent", sent_at=now, platform_message_id=delivery.message_id)
        return values, "sent"
    if delivery.status == "uncertain":
        values.update(status="uncertain", not_before=now + UNCERTAIN_RECHECK)
        return values, "uncertain"
    if outcome.job.attempts < max_attempts:
        backoff = timedelta(seconds=min(3600, 2**outcome.job.attempts))
        values.update(status="pending", not_before=now + backoff)
        return values, "retrying"
    values["status"] = "failed"
    return values, "failed"


class ReplySender:
    """Sends one channel's queued replies, each exactly once (or recorded as not known to have arrived).

    Args:
        channel: the channel the replies answer on (`Channel`: send, lookup).
        worker: this sender's name on its leases (unique per process).
        lease: how long a row is held before another sender may look it up; renewed while held.
    """

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        channel: Channel,
        worker: str,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 8,
    ) -> None:
        self.sessions = sessions
        # Claims, look-ups of lapsed leases, renewals and a lone outcome are each one statement.
        self._one_statement = one_statement_sessions(sessions)
        self.clock = clock
        self.channel = channel
        self.worker = worker
        self.lease = lease
        self.max_attempts = max_attempts
        self._held: set[int] = set()
        self._claims: Batcher[Sequence[int], list[_Job]] = Batcher(
            one=lambda ids: self._claim(ids), many=lambda batches: self._claim_together(batches)
        )
        self._records: Batcher[_Outcome, _Counted] = Batcher(
            one=lambda outcome: self._record([outcome])[0], many=lambda outcomes: self._record(outcomes)
        )

    # --- the database -------------------------------------------------------------------------

    def _lease_jobs(self, ids: Sequence[int] | None, limit: int) -> list[_Job]:
        """One statement leasing `ids` (None: the replies waiting and due), at most `limit`."""
        now = self.clock()
        with self._one_statement.begin() as session:
            rows = outbox.claim(
                session=session,
                channel=self.channel.name,
                now=now,
                worker=self.worker,
                lease=self.lease,
                ids=ids,
                # A turn's row is its turn's to send for a lease, as a leased row would be.
                left_to_turns=self.lease,
                limit=limit,
            )
            return [_job(row) for row in rows]

    def _claim(self, ids: Sequence[int] | None) -> list[_Job]:
        return self._lease_jobs(ids, outbox.CLAIM_LIMIT)

    def _lapsed(self) -> list[_Job]:
        now = self.clock()
        with self._one_statement.begin() as session:
            rows = outbox.lapsed(
                session=session, channel=self.channel.name, now=now, worker=self.worker, lease=self.lease
            )
            return [_job(row) for row in rows]

    def _renew(self, ids: Sequence[int]) -> int:
        """Extend this sender's leases on `ids`; how many it still held."""
        with self._one_statement.begin() as session:
            return outbox.renew(
                session=session, ids=ids, now=self.clock(), worker=self.worker, lease=self.lease
            )

    def _claim_together(self, batches: Sequence[Sequence[int]]) -> list[list[_Job]]:
        """`_claim` for several callers' ids in one transaction; each caller's jobs, in id order."""
        wanted = sorted({row_id for ids in batches for row_id in ids})
        jobs = {job.id: job for job in self._lease_jobs(wanted, len(wanted))}
        claimed: list[list[_Job]] = []
        for ids in batches:  # a row asked for twice goes to the first asking, as claims in turn would
            claimed.append([jobs.pop(row_id) for row_id in sorted(set(ids)) if row_id in jobs])
        return claimed

    def _record(self, outcomes: Sequence[_Outcome]) -> list[_Counted]:
        """Record outcomes in one transaction; what each counts as (the report is the caller's)."""
        now = self.clock()
        counted: list[_Counted] = []
        # An outcome is one UPDATE, atomic alone. Several commit together: a batch that fails is
        # recorded again item by item (`Batcher`), and must have left nothing behind.
        sessions = self._one_statement if len(outcomes) == 1 else self.sessions
        with sessions.begin() as session:
            for outcome in outcomes:
                values, counts_as = _settled(outcome, now, max_attempts=self.max_attempts)
                mine = outbox.record(
                    session=session, row_id=outcome.job.id, worker=self.worker, values=values
                )
                # Not this sender's any more: taken over after its lease lapsed, the other records it.
                counted.append(counts_as if mine else None)
        return counted

    async def _note(self, outcome: _Outcome, report: DeliveryReport) -> None:
        """Record `outcome` (with other senders' outcomes), then count and log it once committed."""
        counted = await self._records.submit(outcome)
        if counted is None:
            return
        setattr(report, counted, getattr(report, counted) + 1)
        job, delivery = outcome.job, outcome.delivery
        if counted == "failed" and delivery is not None:
            log.error(messages.reply_failed(job.id, job.attempts, delivery.error))
        elif counted in ("uncertain", "retrying") and delivery is not None:
            log.warning(messages.reply_not_sent(job.id, delivery.status, delivery.error))
        elif counted == "unconfirmed":
            log.warning(messages.reply_unconfirmed(job.id))

    # --- sending ------------------------------------------------------------------------------

    async def _send(self, job: _Job, channel: Channel, report: DeliveryReport) -> None:
        try:
            delivery = await channel.send(job.address, job.replies, key=reply_key(job.id))
        except Exception as error:  # a bug in an adapter must not lose the row
            log.error(messages.reply_raised(job.id, error))
            delivery = Delivery("uncertain", error=type(error).__name__)
        await self._note(_Outcome(job, delivery=delivery), report)

    async def _reconcile(self, job: _Job, report: DeliveryReport) -> None:
        found, message_id = await self.channel.lookup(job.address, reply_key(job.id), since=job.created_at)
        if found == "absent":
            await self._send(job, self.channel, report)  # it never arrived: sending now is not a duplicate
        else:
            await self._note(_Outcome(job, found=found, message_id=message_id), report)

    async def _keep_leases(self) -> None:
        """Renew the leases of the rows being sent, a few times a lease, until cancelled: a send
        may wait on Retry-After for longer than a lease, and a lapsed row is another's to look up."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            if self._held:
                try:
                    await asyncio.to_thread(self._renew, sorted(self._held))
                except Exception as error:
                    log.warning(messages.reply_lease_renewal_failed(error))

    @contextlib.asynccontextmanager
    async def _holding(self, jobs: Sequence[_Job]) -> AsyncIterator[None]:
        ids = {job.id for job in jobs}
        self._held |= ids
        keeping = asyncio.ensure_future(self._keep_leases())
        try:
            yield
        finally:
            self._held -= ids
            keeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeping

    async def deliver(self, ids: Sequence[int], *, via: Channel | None = None) -> DeliveryReport:
        """Send the rows `ids` now, in order (a turn's replies queued without a lease, just committed).

        A row another sender has taken already is left to it. `via` sends on another object for
        the same channel (Teams answers on the activity's own turn).
        """
        report = DeliveryReport()
        jobs = await self._claims.submit(list(ids))
        async with self._holding(jobs):
            for job in jobs:
                await self._send(job, via or self.channel, report)
        return report

    def turn_lease(self) -> ReplyLease | None:
        """The lease to give a turn (`Port.handle`): its replies are queued held by this sender.

        None on a channel that cannot read a send back (Teams): a leased row a crash left unsent
        is looked up before it is sent, and there it would be recorded unconfirmed and never sent;
        queued pending, it is claimed just before the send and one left unsent goes out later.
        """
        return ReplyLease(self.worker, self.lease) if self.channel.reads_back else None

    async def send_turn(
        self, inbound: Inbound, turned: Turned, *, via: Channel | None = None
    ) -> DeliveryReport:
        """Send a turn's replies now (`turned`, the turn `inbound` had), in order.

        Replies the turn queued leased to this sender (`turn_lease`) are sent as they are: the turn
        committed them claimed for their first attempt, so no transaction claims them again (a
        lease that has run down by half is renewed first, and a row another sender took over after
        it lapsed is left to it). Others (an apology, a turn given no lease) are claimed first, as
        `deliver` does.
        """
        if turned.outbox is None:
            return DeliveryReport()
        if turned.leased_until is None:
            return await self.deliver([turned.outbox], via=via)
        report = DeliveryReport()
        now = self.clock()
        running_down = turned.leased_until - now < self.lease / 2
        if running_down and not await asyncio.to_thread(self._renew, [turned.outbox]):
            return report  # it lapsed and another sender took it over: theirs to look up
        job = _Job(turned.outbox, _address(inbound), list(turned.replies), 1, now)
        async with self._holding([job]):
            await self._send(job, via or self.channel, report)
        return report

    async def keep_sending(self, every: float) -> None:
        """`run_once` now and every `every` seconds, until cancelled: replies a crash or an outage
        left behind go out without waiting for the person to write again."""
        while True:
            try:
                await self.run_once(close=False)
            except Exception as error:  # the database is down: next time round
                log.error(messages.reply_recovery_failed(error))
            await asyncio.sleep(every)

    async def run_once(self, *, close: bool = True) -> DeliveryReport:
        """Look up the replies a crash left mid-send, then send every reply still waiting, in order
        (a turn's new row once it has waited a lease for its turn to send it).

        With `close`, a connection the channel opened for the run is closed at the end.
        """
        report = DeliveryReport()
        try:
            while lapsed := await asyncio.to_thread(self._lapsed):
                async with self._holding(lapsed):
                    for job in lapsed:
                        await self._reconcile(job, report)
            while waiting := await asyncio.to_thread(self._claim, None):
                async with self._holding(waiting):
                    for job in waiting:
                        await self._send(job, self.channel, report)
        finally:
            aclose = getattr(self.channel, "aclose", None)
            if close and aclose is not None:
                await aclose()
        return report
