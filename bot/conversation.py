"""The channels' port served by the running bot: where every database session a channel needs is opened.

`RuntimePort` implements `bot.channels.port.Port` on a `Runtime`: turns go through the router
(one transaction each, as ever), and the rest (who a channel account is, events handled outside
a turn, the home view, refusals, the console's held reminders, the durable work queue) opens its
own short transaction here. It is also the one place that decides which reminder messages a turn
answered, so Slack and Teams only render and send the updates (the console prints them again).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Literal

from bot import messages
from bot.cases.home import Home
from bot.channels.inbound import Inbound
from bot.channels.outbound import Channel
from bot.channels.port import HomeCase, Known, Marked, Payload, ReplyLease, Turned, Update, Visitor
from bot.inbox import Inbox
from bot.people.identity import ChannelAccount, identify, linked_person
from bot.reminders.delivery import answered_reminders, take_for_console
from bot.replies import ReplySender, take_replies
from bot.runtime import Runtime
from dialogs.schema import Pack
from dialogs.types import Reply
from store.audit import record_access
from store.events import mark_processed

__all__ = ["RuntimePort"]

log = logging.getLogger(__name__)


class RuntimePort:
    """`bot.channels.port.Port` on a running bot's router and database (synchronous, thread-safe)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._home = Home(runtime)

    @property
    def pack(self) -> Pack:
        """The content pack replies are rendered with."""
        return self.runtime.pack

    def handle(
        self, inbound: Inbound, *, lease: ReplyLease | None = None, finishes: int | None = None
    ) -> Turned:
        """Run one turn through the router; its replies (queued, held by `lease`'s sender if
        given), their outbox row, the reminders it answered; the work queue's item `finishes`
        deleted with it. Raises `NotStored` when the database cannot be reached; never once the
        turn has committed."""
        since = self.runtime.clock()
        answered = self.runtime.router.answer(inbound, lease=lease, finishes=finishes)
        updates: list[Update] = []
        try:
            # A turn that ran no effect answered no reminder: spare it the look-up's transaction.
            updates = self._updates(inbound, since) if answered.acted else []
        except Exception as error:  # the turn stands; its reminders keep their buttons
            log.error(messages.after_turn_failed(inbound.channel, error))
        return Turned(answered.replies, updates, answered.outbox, answered.leased_until)

    def shown(self, outbox: int | None) -> list[Reply]:
        """A turn's queued replies shown in-process (the console): recorded delivered, returned."""
        ids = [] if outbox is None else [outbox]
        return take_replies(sessions=self.runtime.sessions, ids=ids, now=self.runtime.clock())

    def reply_sender(self, channel: Channel) -> ReplySender:
        """The outbox delivery of turns' replies on `channel` (exactly once, reconciled)."""
        return ReplySender(
            sessions=self.runtime.sessions,
            clock=self.runtime.clock,
            channel=channel,
            # One name per sender, so that its leases are told from another sender's in this process.
            worker=f"{channel.name}-replies:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
            lease=timedelta(seconds=self.runtime.settings.work_lease_seconds),
        )

    def _updates(self, account: ChannelAccount, since: datetime) -> list[Update]:
        """The person's reminders on this channel about points they closed or put off since `since`.

        They then show who did what, with buttons left only for the points still open.
        """
        found = answered_reminders(
            self.pack,
            sessions=self.runtime.sessions,
            email=account.email,
            channel=account.channel,
            since=since,
            now=self.runtime.clock(),
        )
        return [Update(message_id, tuple(replies)) for message_id, replies in found]

    def known(self, *, channel: str, tenant: str, user_id: str) -> Known | None:
        """The person a channel account is already linked to, or None (ask the platform)."""
        with self.runtime.sessions.begin() as session:
            person = linked_person(session=session, channel=channel, tenant=tenant, user_id=user_id)
            return Known(person.email, person.display_name) if person else None

    def link(self, account: ChannelAccount, *, event_id: str | None = None) -> Known | None:
        """Link a channel account to the person with its work email, once per event (None: seen)."""
        now = self.runtime.clock()
        with self.runtime.sessions.begin() as session:
            # One transaction: a crash forgets both the event and the link, so a resend does both.
            if event_id and not mark_processed(
                session=session, channel=account.channel, event_id=event_id, now=now
            ):
                return None
            person = identify(session=session, account=account, now=now)
            return Known(person.email, person.display_name)

    def first_time(self, *, channel: str, event_id: str) -> bool:
        """Record an event handled outside a turn; False if it already was (a resend)."""
        with self.runtime.sessions.begin() as session:
            return mark_processed(
                session=session, channel=channel, event_id=event_id, now=self.runtime.clock()
            )

    def home(self, visitor: Visitor) -> list[HomeCase]:
        """The visitor's open cases with their outstanding points (each view audited)."""
        return self._home.cases(visitor)

    def mark_point(
        self,
        visitor: Visitor,
        *,
        reference: str,
        point_id: int,
        status: Literal["done", "not_applicable"],
        reason: str | None = None,
    ) -> Marked:
        """Close a point from the home view; the outcome and the reminders it answered."""
        since = self.runtime.clock()
        outcome = self._home.mark(
            visitor, reference=reference, point_id=point_id, status=status, reason=reason
        )
        return Marked(outcome, self._updates(visitor, since))

    def record_refusal(self, *, channel: str, surface: str, reason: str) -> None:
        """Audit a refused request: no person, no case, the surface and the reason."""
        with self.runtime.sessions.begin() as session:
            record_access(
                session=session,
                person=None,
                case=None,
                surface=channel,
                action="refused",
                purpose="probe",
                now=self.runtime.clock(),
                detail=f"{surface}: {reason}",
            )

    def held_reminders(self, account: ChannelAccount) -> list[Reply]:
        """Reminders that waited for the person (no push channel), now shown and so delivered."""
        with self.runtime.sessions.begin() as session:
            person_id = identify(session=session, account=account, now=self.runtime.clock()).id
        return take_for_console(
            self.pack, sessions=self.runtime.sessions, person_id=person_id, now=self.runtime.clock()
        )

    def work_queue(
        self,
        *,
        source: str,
        process: Callable[[Payload, int], Awaitable[bool]],
        queue_of: Callable[[Payload], str],
        redact: Callable[[Payload], Payload],
        recover: Callable[[], Awaitable[object]] | None = None,
    ) -> Inbox:
        """A durable queue (`bot.inbox.Inbox`) for `source`'s acknowledged work."""
        lease = timedelta(seconds=self.runtime.settings.work_lease_seconds)
        return Inbox(
            source=source,
            sessions=self.runtime.sessions,
            clock=self.runtime.clock,
            process=process,
            queue_of=queue_of,
            redact=redact,
            lease=lease,
            sweep_every=lease.total_seconds() / 2,
            recover=recover,
        )
