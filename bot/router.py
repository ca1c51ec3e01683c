"""The router: one turn = load state, step the engine, run its effects, save state, in one transaction.

Because the effects run inside the same transaction as the state save, a turn either happens
completely (case opened and conversation moved on) or not at all: a crash mid-turn leaves the
conversation where it was, and the person's next message resumes it. The turn's replies are
queued in the outbox in that same transaction, with its event id (`bot.replies`): a turn that
committed has its answer waiting to be delivered, and a retried event answers nothing twice. Work
a channel acknowledged and stored (`bot.inbox`) leaves the inbox in the same transaction too.
A database that cannot be reached is not a turn that failed: `NotStored` is raised, so that the
channel can tell its platform to deliver the message again.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot import messages
from bot.cases.effects import EffectRunner
from bot.channels.inbound import Inbound
from bot.channels.port import NotStored, ReplyLease
from bot.clock import Clock
from bot.people.identity import identify
from bot.replies import queue_replies
from dialogs.engine import is_stale, step
from dialogs.schema import Pack
from dialogs.types import Reply, Turn
from dialogs.understand import clean_text
from store.dialog_state import StaleStateError, load_state, save_state
from store.events import mark_processed
from store.inbox import complete as complete_work
from store.outbox import release_held

__all__ = ["Answered", "Router"]

log = logging.getLogger(__name__)

#: Effects chained within one turn before the router decides something is wrong.
_MAX_EFFECTS = 20
_ATTEMPTS = 5
#: Upper bound of the pause before re-running a turn that lost a race (seconds, jittered).
_RACE_PAUSE = 0.05


@dataclass(frozen=True)
class Answered:
    """A turn's replies, the outbox row they were queued in (None: nothing queued), whether the
    turn ran effects (only then can it have closed or put off a point), and until when the row is
    leased to the sender the turn was given (None: not leased)."""

    replies: list[Reply]
    outbox: int | None = None
    acted: bool = False
    leased_until: datetime | None = None


class Router:
    """Routes each inbound message through the engine and the store."""

    def __init__(self, *, pack: Pack, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.pack = pack
        self.sessions = sessions
        self.clock = clock
        self.effects = EffectRunner(pack)

    def handle(self, inbound: Inbound) -> list[Reply]:
        """Handle one inbound message and return the replies it queued, in order (see `answer`)."""
        return self.answer(inbound).replies

    def answer(
        self, inbound: Inbound, *, lease: ReplyLease | None = None, finishes: int | None = None
    ) -> Answered:
        """Handle one inbound message: its replies, queued in the outbox in the turn's transaction
        (held by `lease`'s sender, which sends them without claiming them again), and the inbox
        item `finishes` (the stored work this turn does) deleted in it.

        An inbound with an `event_id` already handled gives no replies (a platform's retry). A
        turn that loses a race with another turn of the same conversation (a double click, a
        retried delivery) is run again on the fresh state. A database that stays unreachable
        raises `NotStored` (nothing was saved; the platform should deliver the message again).
        Any other failure rolls the whole turn back and queues an apology, so nothing half-done
        is saved.
        """
        turn_id = inbound.event_id or uuid.uuid4().hex
        last: Exception | None = None
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self.sessions.begin() as session:
                    return self._turn(session, inbound, turn_id, lease, finishes)
            except (StaleStateError, IntegrityError) as error:
                log.info(messages.state_conflict(attempt))
                last = error
                time.sleep(random.uniform(0, _RACE_PAUSE * attempt))
            except OperationalError as error:
                log.warning(messages.turn_failed(inbound.channel, error))
                last = error
            except Exception as error:
                log.error(messages.turn_failed(inbound.channel, error))
                return self._apology(inbound, turn_id, finishes)
        assert last is not None
        log.warning(messages.turn_failed(inbound.channel, last))
        if isinstance(last, OperationalError):
            raise NotStored(inbound.event_id) from last
        return self._apology(inbound, turn_id, finishes)

    def _apology(self, inbound: Inbound, turn_id: str, finishes: int | None) -> Answered:
        """The apology for a turn rolled back, queued in a transaction of its own (which finishes
        the stored work: the turn would fail again)."""
        replies = [Reply(key="strings.error", text=self.pack.text("strings.error"))]
        try:
            with self.sessions.begin() as session:
                queued = queue_replies(
                    session=session,
                    inbound=inbound,
                    turn_id=f"{turn_id}:error",
                    replies=replies,
                    now=self.clock(),
                )
                self._finish(session, finishes)
        except Exception as error:
            raise NotStored(inbound.event_id) from error
        return Answered(replies, queued.id if queued else None)

    @staticmethod
    def _finish(session: Session, finishes: int | None) -> None:
        """Delete the stored work the turn does as the turn commits (a transaction fewer than after
        it). Last in the turn: on PostgreSQL the row stays locked until the commit, and a retried
        delivery storing the same work waits for that lock before it is acknowledged."""
        if finishes is not None:
            complete_work(session=session, item_id=finishes)

    def _turn(
        self, session: Session, inbound: Inbound, turn_id: str, lease: ReplyLease | None, finishes: int | None
    ) -> Answered:
        now = self.clock()
        if inbound.event_id and not mark_processed(
            session=session, channel=inbound.channel, event_id=inbound.event_id, now=now
        ):
            self._finish(session, finishes)
            return Answered([])  # a retried or resent delivery of an event already handled
        person = identify(session=session, account=inbound, now=now)
        # Whatever waited for them (a victim's leaflet) goes at the next delivery, now they are here
        # (identify said whether anything waits; None: it did not say).
        if person.has_held is not False:
            release_held(session=session, person_id=person.id, now=now)
        loaded = load_state(session=session, key=inbound.conversation_key, now=now)
        replies: list[Reply] = []
        if loaded.reset:
            log.warning(messages.state_quarantined(person.id))
            replies.append(Reply(key="strings.state_reset", text=self.pack.text("strings.state_reset")))
        if is_stale(self.pack, loaded.state):
            log.warning(messages.state_stale(loaded.state.flow, loaded.state.step))

        turn = Turn(
            id=turn_id,
            now=now,
            text=clean_text(inbound.text) if inbound.text is not None else None,
            pick=inbound.pick,
            start=inbound.start,
            start_text=clean_text(inbound.start_text),
            resume=inbound.resume,
        )
        state, out, effects = step(self.pack, loaded.state, turn)
        replies += out
        acted = bool(effects)
        for _ in range(_MAX_EFFECTS):
            if not effects:
                break
            effect, *rest = effects
            result = self.effects.run(effect, session=session, actor=person, surface=inbound.channel, now=now)
            state, out, more = step(self.pack, state, Turn(id=turn_id, now=now, result=result))
            replies += out
            effects = more + rest
        else:
            raise RuntimeError("effects kept chaining; the pack loops")
        save_state(
            session=session, key=inbound.conversation_key, state=state, version=loaded.version, now=now
        )
        queued = queue_replies(
            session=session, inbound=inbound, turn_id=turn_id, replies=replies, now=now, lease=lease
        )
        self._finish(session, finishes)
        if queued is None:
            return Answered(replies, None, acted)
        return Answered(replies, queued.id, acted, queued.until)
