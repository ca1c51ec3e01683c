"""A fake channel for tests: a person talking to the bot through its port, as an adapter would."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.channels.inbound import Inbound
from bot.channels.outbound import Address, Delivery, Found, Pace
from bot.channels.port import Port, Update
from bot.reminders.ratelimit import Limit
from dialogs.types import ChoicePick, Reply

__all__ = ["Conversation", "FakePush", "Talker", "keys"]


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
    def notices(self) -> list[Reply]: ...


class Conversation:
    """One person's conversation on one channel, remembering the choices last offered.

    `updates` holds the messages the last turn said to rewrite in place (answered reminders).
    """

    def __init__(self, port: Port, email: str, channel: str = "console", tenant: str = "") -> None:
        self.port = port
        self.email = email
        self.channel = channel
        self.tenant = tenant
        self.last: list[Reply] = []
        self.updates: list[Update] = []

    def _send(self, **kwargs: object) -> list[Reply]:
        inbound = Inbound(
            channel=self.channel, tenant=self.tenant, user_id=self.email, email=self.email, **kwargs
        )  # type: ignore[arg-type]
        turned = self.port.handle(inbound)
        self.last, self.updates = turned.replies, turned.updates
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

    def notices(self) -> list[Reply]:
        """The messages waiting for the person (prompts, notices), as the console shows them."""
        inbound = Inbound(channel=self.channel, tenant=self.tenant, user_id=self.email, email=self.email)
        self.last, self.updates = self.port.held_reminders(inbound), []
        return self.last


class FakePush:
    """A push channel for tests: records what it sends, can fail on cue, answers lookups.

    `script` lists the outcomes of the next sends ("sent", "429", "503", "timeout", "crash"); when
    it runs out every send succeeds.
    """

    def __init__(self, name: str = "slack", script: list[str] | None = None) -> None:
        self.name = name
        self.reads_back = True
        self.script = list(script or [])
        self.sent: list[tuple[str, str | None, list[Reply]]] = []  # (user id, key, replies)
        self.lookups: list[str] = []
        self.answer_lookup: str | None = None  # force "unknown" or "absent"

    async def send(
        self, address: Address, replies: Sequence[Reply], *, key: str | None = None, pace: Pace | None = None
    ) -> Delivery:
        if pace is not None:
            await pace()
        outcome = self.script.pop(0) if self.script else "sent"
        if outcome == "crash":  # the platform got it, then we died before recording
            self.sent.append((address.user_id, key, list(replies)))
            raise SystemExit("worker killed")
        if outcome == "timeout":
            self.sent.append((address.user_id, key, list(replies)))
            return Delivery("uncertain", error="timeout")
        if outcome != "sent":
            return Delivery("failed", error=f"http {outcome}")
        self.sent.append((address.user_id, key, list(replies)))
        return Delivery("sent", message_id=f"m{len(self.sent)}")

    async def lookup(self, address: Address, key: str, *, since: datetime) -> tuple[Found, str | None]:
        self.lookups.append(key)
        if self.answer_lookup:
            return self.answer_lookup, None  # type: ignore[return-value]
        for number, (_, sent_key, _) in enumerate(self.sent, start=1):
            if sent_key == key:
                return "found", f"m{number}"
        return "absent", None

    def limits(self, address: Address) -> Sequence[Limit]:
        return []
