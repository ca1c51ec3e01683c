"""Delivery: claim queued messages, send them through the channel seam, record what happened.

Every row ends in a recorded state. A send the platform confirms is `sent` with its message id;
a transient failure goes back to `pending` with backoff; a permanent one is `failed` and logged;
a row whose outcome is unknown (a timeout after sending, or a worker that died holding the lease)
is reconciled: the platform is asked whether the message arrived before anything is resent, and
if it cannot say, the row is `unconfirmed` rather than sent twice (the point's next reminder still
comes round, so nothing is silently missed).

No reminder, escalation or digest is sent about a closed point: as rows are claimed the points they
list are read again, closed ones are left out, and a row with none left is `withdrawn`. Wording that
depends on time ("Overdue since …") is decided as the message is sent, not when it was queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import messages
from bot.cases.outreach import HELD_NEEDS_NOTE, note_held
from bot.cases.service import BOT_DONE, note_delivered
from bot.channels.outbound import Address, Channel, Delivery
from bot.clock import Clock
from bot.reminders.budget import rate_limiter_for
from bot.reminders.disclosure import audit_disclosures
from bot.reminders.queue import open_points_only, withdraw
from bot.reminders.ratelimit import Limiter
from dialogs.notices import PointOutcome, notice_replies, payload_points
from dialogs.schema import Pack
from dialogs.types import Reply
from store.models import CaseEvent, ChannelIdentity, Nudge, Person, PlanPoint
from store.outbox import claim, held_for, hold_unreachable, lapsed_claims, renew
from store.people import find_person

__all__ = [
    "UNCERTAIN_RECHECK",
    "UNCONFIRMED",
    "DeliveryReport",
    "Deliverer",
    "answered_reminders",
    "reminder_replies",
    "take_for_console",
]

#: The case events of a person answering a point (see `store.cases.mark_point`, `snooze_point`).
_ANSWERS = ("point_done", "point_not_applicable", "point_snoozed")
#: The most reminders updated after one turn (a point left open for weeks is in one a day).
_UPDATES_PER_TURN = 10

log = logging.getLogger(__name__)

#: How long a person without a channel waits before we look for one again.
_HOLD = timedelta(hours=1)
#: How long after a send of unknown outcome it is looked up (reminders and turns' replies alike).
UNCERTAIN_RECHECK = timedelta(minutes=1)
#: What a row records when a look-up could not say whether its send arrived (it is not resent).
UNCONFIRMED = "outcome unknown; not resent"


@dataclass
class DeliveryReport:
    """What one delivery run did, by outcome."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0
    uncertain: int = 0
    reconciled: int = 0
    unconfirmed: int = 0
    withdrawn: int = 0


@dataclass(frozen=True)
class _Job:
    id: int
    kind: str
    payload: dict[str, object]
    address: Address
    attempts: int
    created_at: datetime


def _addresses(
    session: Session, person_ids: Iterable[int], channels: Mapping[str, Channel]
) -> dict[int, Address]:
    """Where to reach each person now, in one query: the push channel they used most recently."""
    wanted = set(person_ids)
    if not wanted:
        return {}
    identities = session.scalars(
        select(ChannelIdentity).where(
            ChannelIdentity.person_id.in_(wanted), ChannelIdentity.channel.in_(list(channels))
        )
    ).all()
    latest: dict[int, ChannelIdentity] = {}
    for identity in identities:
        held = latest.get(identity.person_id)
        if held is None or _recency(identity) > _recency(held):
            latest[identity.person_id] = identity
    return {
        person: Address(i.channel, i.tenant, i.user_id, dict(i.address or {})) for person, i in latest.items()
    }


def _recency(identity: ChannelIdentity) -> tuple[datetime, int]:
    return (identity.last_seen_at or identity.updated_at, identity.id)


def _key(nudge_id: int) -> str:
    return f"hampshire-nudge-{nudge_id}"


def _withdraw(row: Nudge, report: DeliveryReport | None = None) -> None:
    withdraw(row)
    if report is not None:
        report.withdrawn += 1


def _still_due(
    session: Session, rows: Sequence[Nudge], report: DeliveryReport | None = None
) -> Iterator[tuple[Nudge, Mapping[str, Any]]]:
    """Each row with its payload as its points stand now; a row with none left is withdrawn."""
    current = open_points_only(session, rows)
    for row in rows:
        payload = current.get(row.id, row.payload)
        if payload is None:
            _withdraw(row, report)
            continue
        yield row, payload


class Deliverer:
    """Sends what the sweep queued, within each platform's rate limits."""

    def __init__(
        self,
        *,
        pack: Pack,
        sessions: sessionmaker[Session],
        clock: Clock,
        channels: Mapping[str, Channel],
        worker: str,
        limiter: Limiter | None = None,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 200,
        concurrency: int = 32,
        max_attempts: int = 8,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.pack = pack
        self.sessions = sessions
        self.clock = clock
        self.channels = dict(channels)
        self.worker = worker
        self.limiter = limiter or rate_limiter_for(sessions)
        self.lease = lease
        self.batch = batch
        self.gate = asyncio.Semaphore(concurrency)
        self.max_attempts = max_attempts
        self.sleep = sleep
        #: Rows this run holds while they wait to be sent: their leases are kept fresh.
        self._held: set[int] = set()

    # --- claiming -----------------------------------------------------------------------------

    def _jobs(
        self,
        rows: Sequence[Nudge],
        session: Session,
        now: datetime,
        report: DeliveryReport,
        *,
        recheck: bool = True,
    ) -> list[_Job]:
        jobs = []
        due = _still_due(session, rows, report) if recheck else ((row, row.payload) for row in rows)
        addresses = _addresses(session, (row.recipient_id for row in rows), self.channels)
        for row, payload in due:
            address = addresses.get(row.recipient_id)
            if address is None:
                # Nobody to push to yet: wait for the person to reach us on some channel (the
                # console shows held messages when they open it).
                row.status, row.channel, row.not_before, row.claimed_by = "held", None, now + _HOLD, None
                row.attempts -= 1
                report.held += 1
                note_held(self.pack, session=session, nudge=row, now=now)
                continue
            row.channel = address.channel
            jobs.append(_Job(row.id, row.kind, dict(payload), address, row.attempts, row.created_at))
        return jobs

    def _claim(self, report: DeliveryReport) -> list[_Job]:
        """The next batch to send: urgent rows first, and only rows for people we can reach.

        Rows for people with no push channel are set aside as held in bulk, not claimed: a backlog
        of them never delays a message that can be sent.
        """
        now = self.clock()
        channels = list(self.channels)
        with self.sessions.begin() as session:
            held = hold_unreachable(session=session, now=now, channels=channels)
            report.held += len(held)
            # Held in bulk, but a victim's leaflet waiting still asks their supervisor to hand it over.
            for row_id, kind in held:
                if kind in HELD_NEEDS_NOTE and (row := session.get(Nudge, row_id)) is not None:
                    note_held(self.pack, session=session, nudge=row, now=now)
            rows = claim(
                session=session,
                now=now,
                worker=self.worker,
                lease=self.lease,
                limit=self.batch,
                channels=channels,
            )
            return self._jobs(rows, session, now, report)

    def _lapsed(self, report: DeliveryReport) -> list[_Job]:
        now = self.clock()
        with self.sessions.begin() as session:
            rows = lapsed_claims(
                session=session, now=now, worker=self.worker, lease=self.lease, limit=self.batch
            )
            # A lapsed send may have arrived: it is looked up as it was sent, and only re-checked
            # against the points (`_current`) once the platform says it never arrived.
            return self._jobs(rows, session, now, report, recheck=False)

    def _renewed(self, jobs: list[_Job], report: DeliveryReport) -> list[_Job]:
        """A batch claimed ahead, as it is about to be sent: the jobs whose lease this worker still
        holds (renewed), re-checked against the points as they stand now."""
        now = self.clock()
        with self.sessions.begin() as session:
            rows = renew(
                session=session, ids=[job.id for job in jobs], now=now, worker=self.worker, lease=self.lease
            )
            by_id = {job.id: job for job in jobs}
            for lost in by_id.keys() - {row.id for row in rows}:
                log.warning(messages.delivery_lost_claim(lost))
            return [
                replace(by_id[row.id], payload=dict(payload))
                for row, payload in _still_due(session, rows, report)
            ]

    def _extend(self, ids: Sequence[int]) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            renew(session=session, ids=ids, now=now, worker=self.worker, lease=self.lease)

    async def _keep_leases(self) -> None:
        """Renew the leases of the rows this run holds, a few times a lease, until cancelled.

        A message may wait on the rate limiter (or a Retry-After) for longer than a lease: without
        this, another worker would take the row as lapsed, find it unsent and send it too.
        """
        while True:
            await self.sleep(self.lease.total_seconds() / 3)
            if not self._held:
                continue
            try:
                await asyncio.to_thread(self._extend, sorted(self._held))
            except Exception as error:  # a database blip must not end the run: next time round
                log.warning(messages.lease_renewal_failed(error))

    async def _send_all(self, jobs: Sequence[_Job], send: Callable[[_Job], Awaitable[None]]) -> None:
        ids = {job.id for job in jobs}
        self._held |= ids
        try:
            await asyncio.gather(*(send(job) for job in jobs))
        finally:
            self._held -= ids

    def _current(self, job: _Job, report: DeliveryReport) -> _Job | None:
        """The job with its closed points left out, or None once it is withdrawn (none left)."""
        with self.sessions.begin() as session:
            row = session.get(Nudge, job.id)
            if row is None or row.claimed_by != self.worker:
                return None
            for _, payload in _still_due(session, [row], report):
                return replace(job, payload=dict(payload))
            return None

    # --- recording ----------------------------------------------------------------------------

    def _record(self, job: _Job, delivery: Delivery, report: DeliveryReport) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            row = session.get(Nudge, job.id)
            if row is None or row.claimed_by != self.worker or row.status != "sending":
                log.warning(messages.delivery_lost_claim(job.id))
                return
            row.claimed_by = row.claimed_until = None
            row.last_error = delivery.error
            if delivery.status == "sent":
                row.status, row.sent_at, row.platform_message_id = "sent", now, delivery.message_id
                report.sent += 1
                self._after_sent(session, row, job.payload, now)
            elif delivery.status == "uncertain":
                row.status, row.not_before = "uncertain", now + UNCERTAIN_RECHECK
                report.uncertain += 1
            elif job.attempts < self.max_attempts:
                row.status = "pending"
                row.not_before = now + timedelta(minutes=min(60, 2**job.attempts))
                report.retrying += 1
            else:
                row.status = "failed"
                report.failed += 1
                log.error(messages.delivery_failed(job.id, job.attempts, delivery.error))

    def _after_sent(self, session: Session, row: Nudge, payload: Mapping[str, Any], now: datetime) -> None:
        """What follows a row recorded as sent, in the same transaction: the points it completes,
        and the audit of the cases it disclosed."""
        note_delivered(self.pack, session=session, nudge=row, now=now)
        audit_disclosures(session=session, sent=[(row, payload)], now=now)

    def _settle(self, job: _Job, status: str, message_id: str | None, report: DeliveryReport) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            row = session.get(Nudge, job.id)
            if row is None or row.claimed_by != self.worker:
                return
            row.claimed_by = row.claimed_until = None
            if status == "found":
                row.status, row.sent_at, row.platform_message_id = "sent", now, message_id
                report.reconciled += 1
                self._after_sent(session, row, job.payload, now)
            else:
                row.status, row.last_error = "unconfirmed", UNCONFIRMED
                report.unconfirmed += 1
                log.warning(messages.delivery_unconfirmed(job.id))

    # --- sending ------------------------------------------------------------------------------

    def replies(self, job: _Job) -> list[Reply]:
        """The messages a job sends."""
        return notice_replies(self.pack, job.kind, job.payload, now=self.clock(), nudge_id=job.id)

    async def _send(self, job: _Job, report: DeliveryReport) -> None:
        channel = self.channels[job.address.channel]
        limits = channel.limits(job.address)

        async def pace() -> None:
            await self.limiter.acquire(limits)

        async with self.gate:
            try:
                delivery = await channel.send(job.address, self.replies(job), key=_key(job.id), pace=pace)
            except Exception as error:  # a bug in an adapter must not lose the row
                log.error(messages.delivery_raised(job.id, error))
                delivery = Delivery("uncertain", error=type(error).__name__)
        await asyncio.to_thread(self._record, job, delivery, report)

    async def _reconcile(self, job: _Job, report: DeliveryReport) -> None:
        channel = self.channels[job.address.channel]
        found, message_id = await channel.lookup(job.address, _key(job.id), since=job.created_at)
        if found == "absent":
            current = await asyncio.to_thread(self._current, job, report)
            if current is not None:
                await self._send(current, report)  # it never arrived: sending now is not a duplicate
        else:
            await asyncio.to_thread(self._settle, job, found, message_id, report)

    async def run_once(self) -> DeliveryReport:
        """Reconcile lapsed sends, then send everything due, batch by batch.

        A channel may keep a connection open for the run (Slack's `aclose`); it is closed at the
        end, so that a run under `asyncio.run` leaves nothing open behind it.
        """
        keeping = asyncio.ensure_future(self._keep_leases())
        try:
            return await self._run()
        finally:
            keeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeping
            for channel in self.channels.values():
                close = getattr(channel, "aclose", None)
                if close is not None:
                    await close()

    async def _run(self) -> DeliveryReport:
        report = DeliveryReport()
        while lapsed := await asyncio.to_thread(self._lapsed, report):
            await self._send_all(lapsed, lambda job: self._reconcile(job, report))
            if len(lapsed) < self.batch:
                break
        # The next batch is claimed while this one is sent: claiming reads and leases a whole batch,
        # and the platforms' budgets go unused if sending waits for it.
        claiming: asyncio.Future[list[_Job]] | None = asyncio.ensure_future(
            asyncio.to_thread(self._claim, report)
        )
        ahead = False
        while claiming is not None:
            claimed = await claiming
            claiming = None
            # A batch claimed ahead waited while the one before it was sent: its leases may have
            # lapsed (and been taken by another worker) and its points closed meanwhile.
            jobs = await asyncio.to_thread(self._renewed, claimed, report) if ahead and claimed else claimed
            if len(claimed) == self.batch:
                claiming = asyncio.ensure_future(asyncio.to_thread(self._claim, report))
                ahead = True
            await self._send_all(jobs, lambda job: self._send(job, report))
        return report


def take_for_console(
    pack: Pack, *, sessions: sessionmaker[Session], person_id: int, now: datetime
) -> list[Reply]:
    """Messages waiting for a person, shown (and so delivered) when they open the console."""
    with sessions.begin() as session:
        replies = []
        rows = held_for(session=session, person_id=person_id)
        shown = list(_still_due(session, rows))
        for row, payload in shown:
            replies += notice_replies(pack, row.kind, payload, now=now, nudge_id=row.id)
            row.status, row.channel, row.sent_at, row.platform_message_id = "sent", "console", now, "console"
            note_delivered(pack, session=session, nudge=row, now=now)
        audit_disclosures(session=session, sent=shown, surface="console", now=now)
        return replies


def _outcomes(session: Session, row: Nudge, points: Sequence[PlanPoint]) -> dict[int, PointOutcome]:
    """What became of each point of a sent reminder since it was sent: closed, or put off by whom."""
    since = row.sent_at or row.created_at
    people = {p.done_by_id for p in points if p.done_by_id}
    snoozes = list(
        session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == row.case_id, CaseEvent.kind == "point_snoozed", CaseEvent.at >= since)
            .order_by(CaseEvent.at)
        )
    )
    people |= {e.actor_id for e in snoozes if e.actor_id}
    names = {p.id: p.name for p in session.scalars(select(Person).where(Person.id.in_(people)))}
    outcomes: dict[int, PointOutcome] = {}
    for point in points:
        if point.status in ("done", "not_applicable") and point.done_at is not None:
            by = names.get(point.done_by_id) if point.done_by_id else None
            closed = PointOutcome("done" if point.status == "done" else "not_applicable", by, point.done_at)
            outcomes[point.id] = closed
            continue
        for event in snoozes:
            same = event.detail.get("point") == point.code and event.detail.get("instance") == point.instance
            if same and point.remind_at is not None:
                outcomes[point.id] = PointOutcome("snoozed", names.get(event.actor_id or 0), point.remind_at)
    return outcomes


def reminder_replies(
    pack: Pack, *, session: Session, nudge_id: int, email: str, now: datetime
) -> list[Reply] | None:
    """A sent reminder as it stands now, to update it in place after a press.

    Answered points show who did what and lose their buttons; the others keep theirs. None when
    the reminder is not one of `email`'s (or not a reminder).
    """
    row = session.get(Nudge, nudge_id)
    if row is None or row.kind != "nudge" or row.recipient.email != email.strip().lower():
        return None
    ids = payload_points(row.payload)
    points = list(session.scalars(select(PlanPoint).where(PlanPoint.id.in_(ids))))
    return notice_replies(
        pack, row.kind, row.payload, now=now, nudge_id=row.id, outcomes=_outcomes(session, row, points)
    )


def answered_reminders(
    pack: Pack, *, sessions: sessionmaker[Session], email: str, channel: str, since: datetime, now: datetime
) -> list[tuple[str, list[Reply]]]:
    """The person's sent reminders on `channel` about points they closed or put off since `since`.

    Each as (its platform message id, the reminder as it now stands), newest first, to update in
    place after a turn: a button pressed, or the reason that closed a point as not applicable.
    """
    with sessions() as session:
        return _answered(pack, session, email, channel, since, now)


def _answered(
    pack: Pack, session: Session, email: str, channel: str, since: datetime, now: datetime
) -> list[tuple[str, list[Reply]]]:
    person = find_person(session=session, email=email)
    if person is None:
        return []
    # The case timeline says what the person answered (index on actor and time): points they
    # closed, or put off, during the turn, and points the bot closed because of what they did
    # in it (assigning the IO closes "investigating officer assigned").
    acted = session.scalars(
        select(CaseEvent).where(CaseEvent.actor_id == person.id, CaseEvent.at >= since)
    ).all()
    cases = {e.case_id for e in acted}
    if not cases:
        return []
    by_bot = session.scalars(
        select(CaseEvent).where(
            CaseEvent.case_id.in_(cases),
            CaseEvent.actor_id.is_(None),
            CaseEvent.at >= since,
            CaseEvent.kind == BOT_DONE,
        )
    ).all()
    events = [e for e in acted if e.kind in _ANSWERS] + list(by_bot)
    answered = {(e.case_id, e.detail.get("point"), e.detail.get("instance")) for e in events}
    candidates = session.execute(
        select(PlanPoint.id, PlanPoint.case_id, PlanPoint.code, PlanPoint.instance).where(
            PlanPoint.case_id.in_(cases)
        )
    )
    touched = {p.id for p in candidates if (p.case_id, p.code, p.instance) in answered}
    rows = session.scalars(
        select(Nudge)
        .where(
            Nudge.case_id.in_(cases),
            Nudge.status == "sent",
            Nudge.recipient_id == person.id,
            Nudge.kind == "nudge",
            Nudge.channel == channel,
            Nudge.platform_message_id.is_not(None),
        )
        .order_by(Nudge.sent_at.desc(), Nudge.id.desc())
    ).all()
    found = []
    for row in rows:
        if touched & set(payload_points(row.payload)) and row.platform_message_id:
            replies = reminder_replies(pack, session=session, nudge_id=row.id, email=email, now=now)
            if replies:
                found.append((row.platform_message_id, replies))
        if len(found) == _UPDATES_PER_TURN:
            break
    return found
