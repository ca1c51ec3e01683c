"""The neutral value an adapter hands the router: who said what, on which channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dialogs.types import ChoicePick

__all__ = ["Inbound"]


@dataclass(frozen=True)
class Inbound:
    """One message, button press or command from a person, already translated by an adapter.

    Args:
        channel: "console", "slack" or "msteams".
        tenant: the Slack workspace or Teams tenant ("" for the console).
        user_id: the person's id on the channel (their email on the console).
        email: their work email, the key that links the same person across channels.
        display_name: their name as the channel shows it, if known.
        text: what they typed (the router strips control characters).
        pick: the button they pressed.
        start: a flow to start (slash command, shortcut, Home button).
        start_text: text that came with `start`.
        resume: re-show where the conversation is (a console starting up).
        event_id: the platform's id for this event, if it has one.
        address: where to reach the person later (e.g. a Teams conversation reference).
    """

    channel: str
    tenant: str
    user_id: str
    email: str
    display_name: str | None = None
    text: str | None = None
    pick: ChoicePick | None = None
    start: str | None = None
    start_text: str = ""
    resume: bool = False
    event_id: str | None = None
    address: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def conversation_key(self) -> str:
        """The key dialog state is stored under: one conversation per person per channel."""
        return f"{self.channel}:{self.tenant}:{self.user_id}"
