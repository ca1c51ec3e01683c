"""What the bot does with a Teams activity, whichever SDK carried it.

The handler reads the activity's wire JSON (camelCase, as Teams posts it), turns it into the
port's inputs (`bot.channels.port.Port`, the only way it reaches the bot) and the turn's replies
into Adaptive Cards (`bot.channels.teams.cards`). It talks back to Teams only through a `Turn`,
which each SDK binding provides: send a card, update one in place, look a member up.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from bot import messages
from bot.channels.inbound import Inbound
from bot.channels.outbound import Address, Attempt, Delivery, Found, Pace, send_with_retry
from bot.channels.port import Port, ReplySender, Update
from bot.channels.teams.cards import read_submit, render_cards
from bot.channels.teams.options import TeamsOptions
from bot.channels.teams.references import conversation_reference
from bot.channels.teams.security import CHANNEL
from bot.clock import Clock
from bot.people.policy import work_email
from bot.reminders.ratelimit import Limit
from dialogs.render import fill
from dialogs.schema import Pack
from dialogs.types import Reply

__all__ = ["InvokeAnswer", "MemberRecord", "TeamsHandler", "Turn"]

log = logging.getLogger(__name__)

_EXECUTE = "adaptiveCard/action"
_MAX_CACHED_MEMBERS = 10_000


@dataclass(frozen=True)
class MemberRecord:
    """Teams' roster entry for a person, as far as the bot needs it."""

    email: str | None
    user_principal_name: str | None
    name: str | None


@dataclass(frozen=True)
class InvokeAnswer:
    """The HTTP answer to an invoke activity (Teams waits for it)."""

    status: int
    body: dict[str, Any] | None


class Turn(Protocol):
    """The way back to Teams for one incoming activity, as an SDK binding provides it."""

    async def send(self, card: dict[str, Any]) -> Attempt:
        """Post a card to the activity's conversation: one try, its outcome."""

    async def update(self, activity_id: str, card: dict[str, Any]) -> Attempt:
        """Replace the message `activity_id` in the activity's conversation with a card: one try."""

    async def member(self, user_id: str) -> MemberRecord:
        """The conversation member `user_id` (raises when Teams does not answer with one)."""


@dataclass(frozen=True)
class _Member:
    email: str | None
    name: str | None
    until: datetime


def _part(activity: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = activity.get(key)
    return value if isinstance(value, Mapping) else {}


def _is_personal(activity: Mapping[str, Any]) -> bool:
    return _part(activity, "conversation").get("conversationType") == "personal"


def _card_action_response(status: int, kind: str, value: object) -> InvokeAnswer:
    """The reply to an Action.Execute press (never an SDK's 501 default)."""
    return InvokeAnswer(200, {"statusCode": status, "type": kind, "value": value})


class TeamsHandler:
    """Turns activities into the port's inputs and its replies into cards."""

    def __init__(self, port: Port, options: TeamsOptions, clock: Clock, replies: ReplySender) -> None:
        self.port = port
        self.replies = replies
        self.pack = port.pack
        self.options = options
        self.clock = clock
        self._members: OrderedDict[tuple[str, str], _Member] = OrderedDict()

    async def handle(self, activity: Mapping[str, Any], turn: Turn) -> InvokeAnswer | None:
        """Handle one checked activity (wire JSON); the invoke answer for an invoke, else None."""
        kind = activity.get("type")
        if kind == "message":
            await self._on_message(activity, turn)
        elif kind == "conversationUpdate":
            await self._on_conversation_update(activity, turn)
        elif kind == "installationUpdate":
            await self._on_installation_update(activity, turn)
        elif kind == "invoke":
            return await self._on_invoke(activity, turn)
        return None

    # --- activities --------------------------------------------------------------------------

    async def _on_message(self, activity: Mapping[str, Any], turn: Turn) -> None:
        if not _is_personal(activity):
            await self._point_to_personal_chat(activity, turn)
            return
        value = activity.get("value")
        if value is not None and (submitted := read_submit(value)) is not None:
            pick = submitted.pick()
            if pick is None:
                await self._say(activity, turn, [self._reply("strings.pick_one")])
            else:
                await self._turn(activity, turn, pick=pick)
            return
        text = activity.get("text")
        await self._turn(activity, turn, **_typed(text if isinstance(text, str) else None, self.pack))

    async def _on_conversation_update(self, activity: Mapping[str, Any], turn: Turn) -> None:
        bot_id = _part(activity, "recipient").get("id")
        added = activity.get("membersAdded")
        if not any(isinstance(m, Mapping) and m.get("id") == bot_id for m in added or []):
            return
        if _is_personal(activity):
            await self._turn(activity, turn, resume=True)
        else:
            await self._point_to_personal_chat(activity, turn)

    async def _on_installation_update(self, activity: Mapping[str, Any], turn: Turn) -> None:
        action = activity.get("action")
        action = action if isinstance(action, str) else None
        if not (action or "").startswith("add") or not _is_personal(activity):
            log.info(messages.teams_installation(action, activity.get("id")))
            return
        member = await self._member(activity, turn)
        if member is not None and member.email:
            inbound = self._inbound(activity, member)
            # Who installed the bot and where to reach them, once per installation activity.
            await asyncio.to_thread(partial(self.port.link, inbound, event_id=inbound.event_id))

    async def _on_invoke(self, activity: Mapping[str, Any], turn: Turn) -> InvokeAnswer:
        if activity.get("name") != _EXECUTE:
            return InvokeAnswer(501, None)
        value = activity.get("value")
        action = value.get("action") if isinstance(value, Mapping) else None
        submitted = read_submit(action.get("data")) if isinstance(action, Mapping) else None
        if submitted is None:
            return _card_action_response(400, "application/vnd.microsoft.error", {"code": "BadRequest"})
        if not _is_personal(activity):
            await self._point_to_personal_chat(activity, turn)
        elif (pick := submitted.pick()) is None:
            await self._say(activity, turn, [self._reply("strings.pick_one")])
        else:
            await self._turn(activity, turn, pick=pick)
        return _card_action_response(200, "application/vnd.microsoft.activity.message", "")

    # --- translation -------------------------------------------------------------------------

    def _reply(self, key: str, **values: Any) -> Reply:
        return Reply(key=key, text=fill(self.pack, key, **values))

    def _inbound(self, activity: Mapping[str, Any], member: _Member, **fields: Any) -> Inbound:
        sender = _part(activity, "from")
        return Inbound(
            channel=CHANNEL,
            tenant=_part(activity, "conversation").get("tenantId") or "",
            user_id=sender.get("aadObjectId") or sender.get("id") or "",
            email=member.email or "",
            display_name=member.name,
            event_id=activity.get("id"),
            address=conversation_reference(activity),
            **fields,
        )

    async def _turn(self, activity: Mapping[str, Any], turn: Turn, **fields: Any) -> None:
        member = await self._member(activity, turn)
        if member is None:
            return
        if not member.email:
            if await self._first_time(activity.get("id")):
                domains = ", ".join(self.pack.meta.work_email_domains)
                await self._say(
                    activity, turn, [self._reply("strings.teams_work_account_needed", domains=domains)]
                )
            return
        inbound = self._inbound(activity, member, **fields)
        # Committed with the turn (not leased to the sender: Teams cannot be asked what arrived),
        # sent from the outbox on the activity's own turn; a reply a crash left unsent goes out
        # proactively, sent by the reply sender's sweep once it has waited a lease.
        lease = self.replies.turn_lease()
        turned = await asyncio.to_thread(partial(self.port.handle, inbound, lease=lease))
        await self.replies.send_turn(inbound, turned, via=_TurnChannel(self, turn))
        await self._update_reminders(activity, turn, turned.updates)

    async def _update_reminders(
        self, activity: Mapping[str, Any], turn: Turn, updates: Sequence[Update]
    ) -> None:
        """Rewrite in place (update activity) the reminder cards the port says were just answered."""
        for update in updates:
            card = render_cards(update.replies, self.pack)[0]

            async def attempt(message_id: str = update.message_id, card: dict[str, Any] = card) -> Attempt:
                return await turn.update(message_id, card)

            delivery = await send_with_retry(
                attempt, policy=self.options.reply_policy, sleep=self.options.sleep
            )
            if delivery.status != "sent":
                log.warning(messages.teams_reply_failed(activity.get("id"), delivery))

    async def _point_to_personal_chat(self, activity: Mapping[str, Any], turn: Turn) -> None:
        if await self._first_time(activity.get("id")):
            await self._say(activity, turn, [self._reply("strings.teams_one_to_one_only")])

    async def _member(self, activity: Mapping[str, Any], turn: Turn) -> _Member | None:
        """Who is speaking: their work email from Teams' member record (cached), or None on failure.

        A member whose addresses are not work addresses comes back with `email` None.
        """
        sender_id = str(_part(activity, "from").get("id") or "")
        key = (str(_part(activity, "conversation").get("tenantId") or ""), sender_id)
        now = self.clock()
        cached = self._members.get(key)
        if cached is not None and cached.until > now:
            self._members.move_to_end(key)
            return cached
        try:
            account = await asyncio.wait_for(turn.member(sender_id), self.options.call_timeout)
        except Exception as error:
            log.warning(messages.teams_member_lookup_failed(activity.get("id"), error))
            await self._say(activity, turn, [self._reply("strings.error")])
            return None
        email = work_email(account.email, account.user_principal_name, pack=self.pack)
        member = _Member(email, account.name, now + self.options.member_ttl)
        self._members[key] = member
        while len(self._members) > _MAX_CACHED_MEMBERS:
            self._members.popitem(last=False)
        return member

    async def _first_time(self, event_id: object) -> bool:
        """Record an activity handled outside a turn; False if it was (a Teams resend)."""
        if not isinstance(event_id, str) or not event_id:
            return True
        return await asyncio.to_thread(partial(self.port.first_time, channel=CHANNEL, event_id=event_id))

    async def _say(self, activity: Mapping[str, Any], turn: Turn, replies: Sequence[Reply]) -> None:
        delivery = await _TurnChannel(self, turn).send_replies(replies)
        if delivery.status != "sent":
            log.warning(messages.teams_reply_failed(activity.get("id"), delivery))


class _TurnChannel:
    """The conversation an activity came from, as the outbox's `Channel`: the turn's replies go
    back on the activity's own turn. Teams cannot be asked what arrived, so a send whose outcome
    was lost is never repeated (`lookup` cannot say)."""

    name = CHANNEL
    reads_back = False

    def __init__(self, handler: TeamsHandler, turn: Turn) -> None:
        self.handler = handler
        self.turn = turn

    async def send_replies(self, replies: Sequence[Reply]) -> Delivery:
        """Post `replies` as cards, in order; stops at the first that is not delivered."""
        first: str | None = None
        attempts, sent = 0, False
        for card in render_cards(replies, self.handler.pack):

            async def attempt(card: dict[str, Any] = card) -> Attempt:
                return await self.turn.send(card)

            delivery = await send_with_retry(
                attempt, policy=self.handler.options.reply_policy, sleep=self.handler.options.sleep
            )
            attempts += delivery.attempts
            if delivery.status != "sent":
                # Part of the answer already reached the person: resending all of it duplicates.
                status = "uncertain" if sent else delivery.status
                return Delivery(status, message_id=first, error=delivery.error, attempts=attempts)
            sent, first = True, first or delivery.message_id
        return Delivery("sent", message_id=first, attempts=attempts)

    async def send(
        self, address: Address, replies: Sequence[Reply], *, key: str | None = None, pace: Pace | None = None
    ) -> Delivery:
        """`Channel.send`: the replies on the activity's turn (`address` is that conversation)."""
        return await self.send_replies(replies)

    async def lookup(self, address: Address, key: str, *, since: datetime) -> tuple[Found, str | None]:
        """Teams has no read-back: never known."""
        return "unknown", None

    def limits(self, address: Address) -> Sequence[Limit]:
        """Replies are not paced."""
        return ()


def _typed(text: str | None, pack: Pack) -> dict[str, Any]:
    """The router input for a typed message: a command of the app's menu (the pack's
    `app_commands`, as Teams types them into the chat) starts its flow, else it is text."""
    said = (text or "").strip()
    word, _, rest = said.partition(" ")
    flow, rest = pack.meta.app_commands.get(word.casefold()), rest.strip()
    if flow == pack.meta.directory_flow:
        return {"start": flow, "start_text": rest}
    if flow and not rest:
        return {"start": flow}
    return {"text": text or ""}
