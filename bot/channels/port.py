"""The narrow port every channel adapter talks to: the rest of the bot, as a channel needs it.

An adapter translates its platform's payloads into an `Inbound`, asks the port, and renders what
comes back; it never opens a database session, and importing this module or an adapter loads no
store, runtime or router (`tests/test_layers.py` checks). The port offers a handful of operations:
handle a turn (its replies, and the reminders it answered, to update in place or, on the console,
print again), who is this person, mark an event handled, the home view and its actions, the
refusal audit, the console's held reminders, and a durable queue for work a platform has already
been told about. Each operation is synchronous and does its own transaction, so adapters run it
off the event loop (`asyncio.to_thread`). `bot.conversation.RuntimePort` serves it from the
running bot; the values it passes (`Visitor`, `HomeCase`, …) are defined here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from bot.channels.inbound import Inbound
from bot.channels.outbound import Channel
from bot.people.policy import ChannelAccount
from dialogs.schema import Pack
from dialogs.types import Reply

__all__ = [
    "HomeCase",
    "HomePoint",
    "Known",
    "Marked",
    "NotStored",
    "Port",
    "ReplyLease",
    "ReplySender",
    "Turned",
    "Update",
    "Visitor",
    "WorkQueue",
]


@dataclass(frozen=True)
class Visitor:
    """Who opened their home, on which channel (as `bot.channels.inbound.Inbound` names them)."""

    channel: str
    tenant: str
    user_id: str
    email: str
    display_name: str | None = None
    address: dict[str, Any] | None = None


@dataclass(frozen=True)
class HomePoint:
    """An outstanding point: its id (for the buttons), title and owner-and-due line."""

    id: int
    title: str
    line: str


@dataclass(frozen=True)
class HomeCase:
    """An open case: its reference, its one-line summary, its outstanding points."""

    reference: str
    summary: str
    points: tuple[HomePoint, ...]


@dataclass(frozen=True)
class Known:
    """A person the bot knows, as much of them as a channel needs: work email and name."""

    email: str
    name: str | None = None


@dataclass(frozen=True)
class Update:
    """A message already sent that should now read differently (a reminder someone answered).

    Args:
        message_id: the platform's id of the message (Slack `ts`, Teams activity id).
        replies: the message as it now stands, to render in place of the old one.
    """

    message_id: str
    replies: tuple[Reply, ...]


class NotStored(RuntimeError):
    """The bot could not store what the person did (its database is unreachable): nothing was
    done, and the channel should have the platform deliver it again (an error status)."""


@dataclass(frozen=True)
class ReplyLease:
    """The reply sender a turn's replies are leased to as they are queued, and for how long.

    Args:
        worker: the sender's name on its leases.
        length: how long the lease runs from the turn (another sender may look the row up after).
    """

    worker: str
    length: timedelta


@dataclass(frozen=True)
class Turned:
    """What a turn gave: the replies, the outbox row they wait in, then messages to update in place.

    Args:
        replies: the turn's replies, as queued.
        outbox: the outbox row holding them, to deliver now (None: nothing to send).
        updates: reminders the turn answered, to rewrite in place.
        leased_until: when the lease on the row runs out, if it was queued leased to the sender
            the turn was given (`ReplyLease`); None when it waits to be claimed.
    """

    replies: list[Reply]
    updates: list[Update] = field(default_factory=list)
    outbox: int | None = None
    leased_until: datetime | None = None


@dataclass(frozen=True)
class Marked:
    """What closing a point from the home view gave: the outcome (`done`, `denied`, …) and updates."""

    outcome: str
    updates: list[Update] = field(default_factory=list)


Payload = dict[str, Any]


class WorkQueue(Protocol):
    """A channel's durable queue of acknowledged work (`bot.inbox.Inbox`), built by the port."""

    async def store(self, key: str, payload: Payload) -> int | None:
        """Commit the work before the platform is answered (None: already waiting); raises if it cannot."""
        ...

    def run(self, item_id: int, key: str, payload: Payload) -> None:
        """Do stored work in the background (once the platform has its answer)."""
        ...

    async def accept(self, key: str, payload: Payload) -> bool:
        """Store the work, then do it in the background; False when it was already waiting."""
        ...

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` in the background, outside the queue (a failure is logged)."""
        ...

    def start(self) -> None:
        """Take up work a previous run left, now and periodically."""
        ...

    async def sweep(self) -> int:
        """Run again the work whose lease ran out; how many were taken."""
        ...

    async def settle(self) -> None:
        """Wait until no background work is left."""
        ...

    async def close(self) -> None:
        """Stop sweeping and let running work finish."""
        ...


class ReplySender(Protocol):
    """Delivers turns' replies from the outbox (`bot.reminders.delivery.Deliverer`)."""

    async def deliver(self, ids: Sequence[int], *, via: Channel | None = None) -> object:
        """Send the outbox rows `ids` now, in order (`via`: on this channel object instead)."""
        ...

    def turn_lease(self) -> ReplyLease | None:
        """The lease to give a turn (`Port.handle`), so its replies are queued held by this sender.

        None when the channel cannot read a send back (`Channel.reads_back`): a leased row a crash
        left unsent is looked up before it is sent, and there it would stay unconfirmed.
        """
        ...

    async def send_turn(self, inbound: Inbound, turned: Turned, *, via: Channel | None = None) -> object:
        """Send a turn's replies now: at once if the turn leased them to this sender, else as `deliver`."""
        ...

    async def run_once(self, *, close: bool = True) -> object:
        """Reconcile replies left mid-send, then send every reply still waiting."""
        ...

    async def keep_sending(self, every: float) -> None:
        """`run_once` now and every `every` seconds, until cancelled."""
        ...


class Port(Protocol):
    """What a channel adapter may ask of the bot (synchronous: call it off the event loop)."""

    @property
    def pack(self) -> Pack:
        """The content pack replies are rendered with."""
        ...

    def handle(
        self, inbound: Inbound, *, lease: ReplyLease | None = None, finishes: int | None = None
    ) -> Turned:
        """Run one turn: its replies, and the person's reminders on this channel it answered.

        An inbound whose `event_id` was already handled gives no replies (a platform's retry).
        With `lease`, the replies are queued held by that sender (`ReplySender.turn_lease`), which
        then sends them without claiming them in a transaction of its own (`send_turn`). With
        `finishes`, the work queue's item the turn does (`WorkQueue`) is deleted in the turn's
        transaction: once the turn has committed (its replies queued), nothing is left to redo.
        """
        ...

    def known(self, *, channel: str, tenant: str, user_id: str) -> Known | None:
        """The person a channel account is already linked to, or None (ask the platform)."""
        ...

    def link(self, account: ChannelAccount, *, event_id: str | None = None) -> Known | None:
        """Link a channel account to the person with its work email (created if new).

        With `event_id`, only the first time that event is seen: None when it was already handled.
        """
        ...

    def first_time(self, *, channel: str, event_id: str) -> bool:
        """Record an event handled outside a turn; False if it already was (a resend)."""
        ...

    def home(self, visitor: Visitor) -> list[HomeCase]:
        """The visitor's open cases with their outstanding points (each view audited)."""
        ...

    def mark_point(
        self,
        visitor: Visitor,
        *,
        reference: str,
        point_id: int,
        status: Literal["done", "not_applicable"],
        reason: str | None = None,
    ) -> Marked:
        """Close a point from the home view; the outcome and the reminders to update."""
        ...

    def record_refusal(self, *, channel: str, surface: str, reason: str) -> None:
        """Audit a refused request (someone from another organisation, without a work email…)."""
        ...

    def held_reminders(self, account: ChannelAccount) -> list[Reply]:
        """Reminders that waited for the person (no push channel), now shown and so delivered."""
        ...

    def work_queue(
        self,
        *,
        source: str,
        process: Callable[[Payload, int], Awaitable[bool]],
        queue_of: Callable[[Payload], str],
        redact: Callable[[Payload], Payload],
        recover: Callable[[], Awaitable[object]] | None = None,
    ) -> WorkQueue:
        """A durable queue for `source`'s acknowledged work, done by `process` in arrival order.

        Args:
            process: does one piece of work, given its id; raising leaves it for a later attempt.
                True when its own transaction deleted the work (a turn given `finishes`); once it
                has, nothing is left to attempt again, and it must not raise.
            queue_of: the conversation a payload belongs to (its work runs in order).
            redact: what to keep of a payload that is given up (ids, no words).
            recover: also run at each of the queue's sweeps (replies a crash left unsent).
        """
        ...

    def reply_sender(self, channel: Channel) -> ReplySender:
        """The outbox delivery of turns' replies on `channel` (exactly once, reconciled)."""
        ...

    def shown(self, outbox: int | None) -> list[Reply]:
        """A turn's queued replies shown in-process (the console): recorded delivered, returned."""
        ...
