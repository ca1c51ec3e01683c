"""A fake channel for tests: a person talking to the router, as an adapter would."""

from __future__ import annotations

from typing import Protocol

from bot.router import Router
from bot.types import Inbound
from dialogs.types import ChoicePick, Reply

__all__ = ["Conversation", "Talker", "keys"]


def keys(replies: list[Reply]) -> list[str]:
    """The string ids of the replies, in order (what transcript tests assert)."""
    return [reply.key for reply in replies]


class Talker(Protocol):
    """One person's side of a conversation on some channel, as transcripts drive it."""

    def say(self, text: str) -> list[Reply]: ...
    def pick(self, value: str) -> list[Reply]: ...
    def start(self, flow: str, text: str = "") -> list[Reply]: ...
    def resume(self) -> list[Reply]: ...
    def choices(self) -> list[str]: ...


class Conversation:
    """One person's conversation on one channel, remembering the choices last offered."""

    def __init__(self, router: Router, email: str, channel: str = "console", tenant: str = "") -> None:
        self.router = router
        self.email = email
        self.channel = channel
        self.tenant = tenant
        self.last: list[Reply] = []

    def _send(self, **kwargs: object) -> list[Reply]:
        inbound = Inbound(channel=self.channel, tenant=self.tenant, user_id=self.email, email=self.email,
                          **kwargs)  # type: ignore[arg-type]
        self.last = self.router.handle(inbound)
        return self.last

    def say(self, text: str) -> list[Reply]:
        """Type a message."""
        return self._send(text=text)

    def pick(self, value: str) -> list[Reply]:
        """Press the button with this value (or label) among the choices last offered."""
        for reply in reversed(self.last):
            for choice in reply.choices:
                if value in (choice.value, choice.label):
                    assert reply.step is not None
                    return self._send(pick=ChoicePick(step=reply.step, value=choice.value))
        offered = [c.value for r in self.last for c in r.choices]
        raise AssertionError(f"no choice {value!r} offered; offered: {offered}")

    def start(self, flow: str, text: str = "") -> list[Reply]:
        """Start a flow directly (a slash command or shortcut)."""
        return self._send(start=flow, start_text=text)

    def resume(self) -> list[Reply]:
        """Come back to the conversation (a console starting up)."""
        return self._send(resume=True)

    def choices(self) -> list[str]:
        """The values of the choices last offered."""
        return [c.value for r in self.last for c in r.choices]
