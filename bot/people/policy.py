"""The work-email policy and what a channel account is: the part of `bot.people` adapters use.

Which addresses count as work email is the pack's `work_email_domains` (glob patterns such as
`*.police.uk`). This module imports nothing that holds database sessions, so a channel adapter can
apply the policy without loading the store (`bot.people.identity` links accounts to people).
"""

from __future__ import annotations

from typing import Any, Protocol

from dialogs.expect import is_work_email, normalise_email
from dialogs.schema import Pack

__all__ = ["ChannelAccount", "work_email"]


class ChannelAccount(Protocol):
    """A person's account on a channel, as an adapter saw it (`Inbound` and the Home `Visitor` are)."""

    @property
    def channel(self) -> str: ...
    @property
    def tenant(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def display_name(self) -> str | None: ...
    @property
    def address(self) -> dict[str, Any] | None: ...


def work_email(*candidates: object, pack: Pack) -> str | None:
    """The first candidate that is an email address in one of the force's work domains, normalised.

    Teams offers a member's email and then their user principal name; Slack a profile email; the
    console and the command line what was typed (platforms' payloads may hold anything, so a
    candidate that is not text is passed over). None when no candidate is a work address.
    """
    for candidate in candidates:
        email = normalise_email(candidate) if isinstance(candidate, str) and candidate else None
        if email is not None and is_work_email(email, pack):
            return email
    return None
