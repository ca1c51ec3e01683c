"""Which SDK carries Teams: botbuilder (the default) or the Microsoft 365 Agents SDK.

`HAMPSHIRE_TEAMS_SDK=agents` chooses the Agents SDK (`bot.channels.teams.agents`); unset or
`botbuilder` keeps the Bot Framework SDK (`bot.channels.teams.botbuilder`). Each SDK is imported
only when chosen, so a server never loads the one it does not use. Both bindings provide a
`Binding`: everything else in the Teams package (the checks, the handler, cards, references,
proactive sends) is shared.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args

from aiohttp import web

from bot.channels.outbound import Attempt, Pace
from bot.channels.teams.handler import InvokeAnswer, MemberRecord, TeamsHandler
from bot.channels.teams.options import TeamsOptions
from bot.channels.teams.references import StoredReference
from bot.channels.teams.security import Mode
from bot.clock import Clock
from bot.settings import Settings

__all__ = ["SDKS", "Binding", "CardTurn", "Sdk", "Verdict", "check_sdk", "chosen_sdk", "make_binding"]

Sdk = Literal["botbuilder", "agents"]
SDKS: tuple[Sdk, ...] = get_args(Sdk)
_ENV = "HAMPSHIRE_TEAMS_SDK"


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


class CardTurn(ABC):
    """The shared handler's way back to Teams through one SDK's turn context (`handler.Turn`).

    Sending and updating a card are the same on both SDKs; each supplies how a card becomes its
    activity, how one call's outcome is read, and how a member is looked up.
    """

    def __init__(self, turn_context: Any, options: TeamsOptions, clock: Clock) -> None:
        self._context = turn_context
        self._options = options
        self._clock = clock

    @abstractmethod
    def card_activity(self, card: dict[str, Any]) -> Any:
        """The SDK's message activity carrying `card`."""

    @abstractmethod
    async def attempt(self, call: Callable[[], Awaitable[Any]], *, timeout: float, clock: Clock) -> Attempt:
        """One call to the connector, its outcome as `send_with_retry` needs it."""

    @abstractmethod
    async def member(self, user_id: str) -> MemberRecord:
        """The conversation member `user_id`, as Teams knows them."""

    async def send(self, card: dict[str, Any]) -> Attempt:
        """Reply with `card` in the turn's conversation."""
        activity = self.card_activity(card)
        return await self.attempt(
            lambda: self._context.send_activity(activity),
            timeout=self._options.call_timeout,
            clock=self._clock,
        )

    async def update(self, activity_id: str, card: dict[str, Any]) -> Attempt:
        """Replace the card of the message `activity_id` with `card`."""
        activity = self.card_activity(card)
        activity.id = activity_id
        return await self.attempt(
            lambda: self._context.update_activity(activity),
            timeout=self._options.call_timeout,
            clock=self._clock,
        )


def make_binding(
    settings: Settings, mode: Mode, options: TeamsOptions, clock: Clock, *, sdk: Sdk | None = None
) -> Binding:
    """The binding for `sdk` (default: the chosen one), its SDK imported only now."""
    if (sdk or chosen_sdk(settings)) == "agents":
        from bot.channels.teams.agents import AgentsBinding

        return AgentsBinding(settings, mode, options, clock)
    from bot.channels.teams.botbuilder import BotbuilderBinding

    return BotbuilderBinding(settings, mode, options, clock)
