"""Proactive Teams messages: a card to a person's 1:1 chat from their stored conversation reference.

The same for either SDK: the binding (`bot.channels.teams.sdk.Binding`) posts one card once, and
this channel decides what is sent, retried (`bot.channels.outbound.send_with_retry`, which honours
Retry-After and never drops a message silently) and reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.channels.outbound import Address, Attempt, Delivery, Found, Pace, send_with_retry
from bot.channels.teams.cards import render_cards
from bot.channels.teams.options import TeamsOptions
from bot.channels.teams.references import StoredReference, read_reference
from bot.channels.teams.sdk import Binding, Sdk, make_binding
from bot.channels.teams.security import CHANNEL, Rules, teams_mode
from bot.clock import Clock, system_clock
from bot.reminders.ratelimit import Limit
from bot.settings import Settings
from dialogs.schema import Pack
from dialogs.types import Reply

__all__ = ["TeamsChannel", "make_teams_channel"]


class TeamsChannel:
    """Proactive messages to a person's 1:1 chat, from the conversation reference stored for them."""

    name = CHANNEL
    reads_back = False

    def __init__(self, binding: Binding, *, pack: Pack, rules: Rules, options: TeamsOptions) -> None:
        self._binding = binding
        self._pack = pack
        self._rules = rules
        self._options = options

    async def send(
        self, address: Address, replies: Sequence[Reply], *, key: str | None = None, pace: Pace | None = None
    ) -> Delivery:
        """Post `replies` as cards; retried as `send_with_retry` allows, and never silently lost.

        `key` is not sent: the Bot Connector offers no way to look a message up by it later.
        """
        reference = read_reference(address.data)
        if reference is None:
            return Delivery("failed", error="no conversation reference", attempts=0)
        if not self._rules.service_url_allowed(reference.service_url):
            return Delivery("failed", error="service URL not allowed", attempts=0)
        attempts, message_id = 0, None
        for card in render_cards(replies, self._pack):
            delivery = await self._send_card(reference, card, pace)
            attempts += delivery.attempts
            if delivery.status != "sent":
                # Part of the message already reached the person: resending all of it duplicates.
                status = "uncertain" if message_id else delivery.status
                return Delivery(status, error=delivery.error, attempts=attempts)
            message_id = delivery.message_id
        return Delivery("sent", message_id=message_id, attempts=attempts)

    async def lookup(self, address: Address, key: str, *, since: datetime) -> tuple[Found, str | None]:
        """Teams cannot list a bot's messages in a 1:1 chat, so whether one arrived is unknown."""
        return "unknown", None

    def limits(self, address: Address) -> Sequence[Limit]:
        """Teams' limits per bot per conversation, and per app per tenant."""
        conversation = (
            f"msteams:conversation:{(address.data.get('conversation') or {}).get('id', address.user_id)}"
        )
        tenant = f"msteams:tenant:{address.tenant}"
        return [
            Limit(conversation, 7, 1.0),
            Limit(conversation, 8, 2.0),
            Limit(conversation, 60, 30.0),
            Limit(conversation, 1800, 3600.0),
            Limit(tenant, 50, 1.0),
        ]

    async def _send_card(
        self, reference: StoredReference, card: dict[str, Any], pace: Pace | None
    ) -> Delivery:
        async def attempt() -> Attempt:
            return await self._binding.post(reference, card, pace)

        return await send_with_retry(attempt, policy=self._options.send_policy, sleep=self._options.sleep)


def make_teams_channel(
    settings: Settings,
    *,
    pack: Pack,
    clock: Clock = system_clock,
    options: TeamsOptions | None = None,
    sdk: Sdk | None = None,
) -> TeamsChannel | None:
    """The Teams channel for proactive sends, or None when Teams is off.

    Args:
        sdk: the SDK that carries Teams (default: the one the settings choose).

    Raises:
        TeamsConfigError: an app id without its password or tenant, or an unknown SDK.
    """
    mode = teams_mode(settings)
    if mode == "off":
        return None
    options = options or TeamsOptions()
    return TeamsChannel(
        make_binding(settings, mode, options, clock, sdk=sdk),
        pack=pack,
        rules=Rules.of(settings, mode, options.service_origins),
        options=options,
    )
