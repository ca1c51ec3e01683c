"""Which SDK carries Teams: botbuilder (the default) or the Microsoft 365 Agents SDK.

`HAMPSHIRE_TEAMS_SDK=agents` chooses the Agents SDK (`bot.channels.teams.agents`); unset or
`botbuilder` keeps the Bot Framework SDK (`bot.channels.teams.botbuilder`). Each SDK is imported
only when chosen, so a server never loads the one it does not use. Both bindings provide a
`Binding`, running turns and posting cards the same way (`SdkBinding`, `CardTurn`) through their
own SDK's classes (`SdkCalls`): everything else in the Teams package (the checks, the handler,
cards, references, proactive sends) is shared.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, ClassVar, Protocol, get_args

from aiohttp import web

from bot import messages
from bot.channels.outbound import Attempt, Pace
from bot.channels.teams.cards import CARD_CONTENT_TYPE
from bot.channels.teams.handler import InvokeAnswer, MemberRecord, TeamsHandler
from bot.channels.teams.options import TeamsOptions
from bot.channels.teams.references import StoredReference
from bot.channels.teams.security import Mode
from bot.clock import Clock
from bot.settings import Settings, TeamsSdk

__all__ = [
    "SDKS",
    "Binding",
    "CardTurn",
    "Sdk",
    "SdkBinding",
    "SdkCalls",
    "Verdict",
    "check_sdk",
    "chosen_sdk",
    "make_binding",
]

log = logging.getLogger(__name__)

Sdk = TeamsSdk
SDKS: tuple[Sdk, ...] = get_args(Sdk)

#: The SDK's turn callback: what runs once the SDK has a turn context.
TurnLogic = Callable[[Any], Awaitable[None]]


def chosen_sdk(settings: Settings) -> Sdk:
    """The SDK that carries Teams: `teams_sdk` (HAMPSHIRE_TEAMS_SDK, checked by the settings)."""
    return settings.teams_sdk


def check_sdk(settings: Settings) -> None:
    """Make sure the chosen SDK is one the bot can drive, importing it only if it is the Agents SDK.

    Raises:
        TeamsConfigError: the installed Agents SDK lacks what its binding relies on.
    """
    if chosen_sdk(settings) == "agents":
        from bot.channels.teams.agents import check_sdk as check_agents_sdk

        check_agents_sdk()


@dataclass(frozen=True)
class Verdict:
    """A request the SDK accepted: the token's claims (none in local mode) and the SDK's own result."""

    claims: Mapping[str, Any]
    result: Any = field(default=None, repr=False)


class Binding(Protocol):
    """What one SDK provides to the shared Teams channel."""

    def read(self, body: Mapping[str, Any]) -> Any | None:
        """The SDK's activity for a request body, or None when the SDK cannot read it."""

    async def authenticate(self, activity: Any, header: str) -> Verdict | None:
        """The SDK's verdict on the request's token (None: refused); local mode takes none."""

    async def run(
        self, verdict: Verdict, activity: Any, body: Mapping[str, Any], handler: TeamsHandler
    ) -> InvokeAnswer | None:
        """Run the SDK's turn for a checked activity, `handler` doing the work."""

    async def post(self, reference: StoredReference, card: dict[str, Any], pace: Pace | None) -> Attempt:
        """Post a card proactively to a stored conversation: one try, its outcome."""

    def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """The cleanup context of a server: keeps signing keys fetched (off the event loop) or
        clients open while it runs, as the SDK needs."""


class Attempter(Protocol):
    """One call to the connector, its outcome as `send_with_retry` needs it (the SDK's errors read)."""

    async def __call__(self, call: Callable[[], Awaitable[Any]], *, timeout: float, clock: Clock) -> Attempt:
        """Make `call`, given up after `timeout` seconds."""


@dataclass(frozen=True)
class SdkCalls:
    """What differs between the SDKs when sending: their schema classes and their errors.

    Both SDKs' schema modules name the same classes and fields alike (but the bot's account), so
    activities and references are built here once.

    Args:
        schema: the SDK's schema module (`Activity`, `Attachment`, `ActivityTypes`,
            `ConversationReference`, `ConversationAccount`, `ChannelAccount`).
        invoke_response: the SDK's class for the HTTP answer to an invoke.
        attempt: one call to the connector, the SDK's errors read.
        bot_field: the reference's field for the bot's account ("bot", or the Agents SDK's "agent").
        missing_id: an account id a stored reference lacks ("" where the SDK refuses None).
    """

    schema: ModuleType
    invoke_response: Callable[..., Any]
    attempt: Attempter
    bot_field: str = "bot"
    missing_id: str | None = None

    def reference(self, reference: StoredReference) -> Any:
        """The SDK's conversation reference for a stored one."""
        bot = self.schema.ChannelAccount(id=reference.bot_id or self.missing_id, name=reference.bot_name)
        return self.schema.ConversationReference(
            channel_id=reference.channel_id,
            service_url=reference.service_url,
            locale=reference.locale,
            conversation=self.schema.ConversationAccount(
                id=reference.conversation_id,
                conversation_type=reference.conversation_type,
                tenant_id=reference.tenant_id,
            ),
            user=self.schema.ChannelAccount(
                id=reference.user_id or self.missing_id,
                name=reference.user_name,
                aad_object_id=reference.user_aad_object_id,
            ),
            **{self.bot_field: bot},
        )

    def card_activity(self, card: dict[str, Any]) -> Any:
        """The SDK's message activity carrying `card`."""
        return self.schema.Activity(
            type=self.schema.ActivityTypes.message,
            attachments=[self.schema.Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
        )

    def answer_activity(self, answer: InvokeAnswer) -> Any:
        """The SDK's activity carrying the HTTP answer to an invoke."""
        return self.schema.Activity(
            type=self.schema.ActivityTypes.invoke_response,
            value=self.invoke_response(status=answer.status, body=answer.body),
        )


class CardTurn(ABC):
    """The shared handler's way back to Teams through one SDK's turn context (`handler.Turn`).

    Sending and updating a card are the same on both SDKs; each supplies its `SdkCalls` and how
    a member is looked up.
    """

    sdk: ClassVar[SdkCalls]

    def __init__(self, turn_context: Any, options: TeamsOptions, clock: Clock) -> None:
        self._context = turn_context
        self._options = options
        self._clock = clock

    @abstractmethod
    async def member(self, user_id: str) -> MemberRecord:
        """The conversation member `user_id`, as Teams knows them."""

    async def send(self, card: dict[str, Any]) -> Attempt:
        """Reply with `card` in the turn's conversation."""
        activity = self.sdk.card_activity(card)
        return await self.sdk.attempt(
            lambda: self._context.send_activity(activity),
            timeout=self._options.call_timeout,
            clock=self._clock,
        )

    async def update(self, activity_id: str, card: dict[str, Any]) -> Attempt:
        """Replace the card of the message `activity_id` with `card`."""
        activity = self.sdk.card_activity(card)
        activity.id = activity_id
        return await self.sdk.attempt(
            lambda: self._context.update_activity(activity),
            timeout=self._options.call_timeout,
            clock=self._clock,
        )


class SdkBinding(ABC):
    """Running a turn and posting a card proactively, the same on both SDKs (`Binding`'s `run` and
    `post`); each binding supplies its adapter, its `CardTurn` and how it continues a stored
    conversation."""

    turn: ClassVar[type[CardTurn]]
    #: The SDK's CloudAdapter: both take (the SDK's verdict, its activity, the turn's logic).
    adapter: Any

    def __init__(self, settings: Settings, mode: Mode, options: TeamsOptions, clock: Clock) -> None:
        self.mode = mode
        self.options = options
        self.clock = clock
        self.app_id = settings.microsoft_app_id or ""

    @abstractmethod
    async def continue_conversation(self, reference: StoredReference, logic: TurnLogic) -> None:
        """The SDK's turn in the stored conversation `reference`, as if it had written first."""

    async def run(
        self, verdict: Verdict, activity: Any, body: Mapping[str, Any], handler: TeamsHandler
    ) -> InvokeAnswer | None:
        """Run the SDK's turn for a checked activity, the shared handler doing the work."""
        activity.conversation.tenant_id = body["conversation"].get("tenantId")

        async def logic(turn_context: Any) -> None:
            answer = await handler.handle(body, self.turn(turn_context, self.options, self.clock))
            if answer is not None:
                await turn_context.send_activity(self.turn.sdk.answer_activity(answer))

        response = await self.adapter.process_activity(verdict.result, activity, logic)
        if response is None:
            return None
        return InvokeAnswer(int(response.status), response.body if isinstance(response.body, dict) else None)

    async def post(self, reference: StoredReference, card: dict[str, Any], pace: Pace | None) -> Attempt:
        """Post a card to a stored conversation through the SDK's `continue_conversation`: one try.

        The call timeout bounds the SDK's set-up (a token, a client) and then the send alone, never
        `pace`: the rate limiter may rightly wait longer than a call may take, and a timeout there
        would be recorded as a send that may have reached Teams.
        """
        sdk = self.turn.sdk
        outcome: list[Attempt] = []
        sending = False

        async def logic(turn_context: Any) -> None:
            nonlocal sending
            activity = sdk.card_activity(card)
            setting_up.reschedule(None)
            if pace is not None:  # as late as the SDK allows: just before the request goes out
                await pace()
            sending = True
            outcome.append(
                await sdk.attempt(
                    lambda: turn_context.send_activity(activity),
                    timeout=self.options.call_timeout,
                    clock=self.clock,
                )
            )

        try:
            async with asyncio.timeout(self.options.call_timeout) as setting_up:
                await self.continue_conversation(reference, logic)
        except Exception as error:
            if isinstance(error, TimeoutError) and setting_up.expired() and not sending:
                return Attempt(status=0, sent=False, error="timed out")  # before the send: nothing went
            log.error(messages.teams_send_failed(error))
            if outcome:  # what failed came after the send, whose outcome stands
                return outcome[0]
            # An error escaping the send itself (a cut-off answer, one the SDK could not read) may
            # follow a message Teams accepted: it is looked up before it is sent again.
            return Attempt(status=0, sent=sending, error=type(error).__name__)
        return outcome[0] if outcome else Attempt(status=0, error="no turn")


def make_binding(
    settings: Settings, mode: Mode, options: TeamsOptions, clock: Clock, *, sdk: Sdk | None = None
) -> Binding:
    """The binding for `sdk` (default: the chosen one), its SDK imported only now."""
    if (sdk or chosen_sdk(settings)) == "agents":
        from bot.channels.teams.agents import AgentsBinding

        return AgentsBinding(settings, mode, options, clock)
    from bot.channels.teams.botbuilder import BotbuilderBinding

    return BotbuilderBinding(settings, mode, options, clock)
