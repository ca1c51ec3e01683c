"""The console channel: talk to the bot in a terminal, interactively or with answers piped in.

Replies print as text, facts as bullet lines and choices as `[1] …`, numbered on through one
output (a reminder lists `[1] Done: …`, `[2] Not applicable: …`, `[3] Remind me later: …` for each
of its points); the person answers with the number, the label or free text. Once a reminder's
point is answered, the reminder is printed again as it now stands (the turn's updates from the
port): who did what, and the choices left. One line is one answer; the end of input ends the
session. The console trusts `--as`: it is for a person at their own machine with access to the database.
It reaches the bot only through the port (`bot.channels.port.Port`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from bot.channels.inbound import Inbound
from bot.channels.port import NotStored, Port
from dialogs.types import Choice, ChoicePick, Reply
from dialogs.understand import clean_text

__all__ = ["Console", "render_replies"]

CHANNEL = "console"


def render_replies(replies: Iterable[Reply], *, start: int = 0) -> str:
    """The replies as the console prints them (choices numbered on from one reply to the next,
    after the `start` choices already shown in the same round)."""
    blocks = []
    number = start
    for reply in replies:
        lines = [clean_text(reply.text)] if reply.text else []
        for fact in reply.facts:
            value_lines = clean_text(fact.value).splitlines() or [""]
            lines.append(f"  • {clean_text(fact.label)}: {value_lines[0]}")
            lines += [f"      {line}" for line in value_lines[1:]]
        if reply.chart is not None:
            lines.append(f"  [{clean_text(reply.chart.title)}]")
            lines += [
                f"    {label}: {value:g}"
                for label, value in zip(reply.chart.labels, reply.chart.values, strict=False)
            ]
        for choice in reply.choices:
            number += 1
            lines.append(f"  [{number}] {clean_text(choice.label)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


class Console:
    """One person's console session."""

    def __init__(self, port: Port, *, email: str, stdin: TextIO, stdout: TextIO) -> None:
        self.port = port
        self.email = email
        self.stdin = stdin
        self.stdout = stdout
        self.interactive = stdin.isatty()
        self.offers: list[tuple[str, Choice]] = []
        # True until the first choices in answer to the current line are shown.
        self.fresh = True

    def _inbound(
        self, *, text: str | None = None, pick: ChoicePick | None = None, resume: bool = False
    ) -> Inbound:
        return Inbound(
            channel=CHANNEL,
            tenant="",
            user_id=self.email,
            email=self.email,
            text=text,
            pick=pick,
            resume=resume,
        )

    def _send(self, *, text: str | None = None, pick: ChoicePick | None = None, resume: bool = False) -> None:
        try:
            turned = self.port.handle(self._inbound(text=text, pick=pick, resume=resume))
        except NotStored:
            # Nothing was saved: the person is told, and types it again.
            self._show([Reply(key="strings.error", text=self.port.pack.text("strings.error"))])
            return
        # Queued in the outbox like any channel's replies; in-process, shown (delivered) at once.
        self._show(self.port.shown(turned.outbox))
        # The reminders this turn answered, as they now stand: the console has no message to
        # update in place, so it prints them again, numbered on after the turn's own choices.
        for update in turned.updates:
            self._show(list(update.replies))

    def _show(self, replies: list[Reply]) -> None:
        # Everything printed in answer to one line is numbered on, so no number on screen means two
        # things (the menu's [1] and a reminder's [1]); the next line picks from all of it.
        offers = [(r.step, c) for r in replies if r.step for c in r.choices]
        if offers and self.fresh:
            self.offers, self.fresh = [], False
        start = len(self.offers) if offers else 0
        self.offers += offers
        self.stdout.write(render_replies(replies, start=start) + "\n\n")
        self.stdout.flush()

    def _pick(self, text: str) -> ChoicePick | None:
        """The choice a typed number or exact label names, from the last choices shown."""
        said = text.strip()
        for number, (step, choice) in enumerate(self.offers, start=1):
            if said == str(number) or said.casefold() == choice.label.casefold():
                return ChoicePick(step=step, value=choice.value)
        return None

    def run(self) -> int:
        """Converse until the end of input; returns the exit status.

        Reminders that waited for the person (they have no Slack or Teams) are shown first thing,
        after where the conversation was, so their buttons are the ones a number picks.
        """
        self._send(resume=True)
        waiting = self.port.held_reminders(self._inbound())
        if waiting:
            header = Reply(key="strings.console_pending", text=self.port.pack.text("strings.console_pending"))
            self._show([header, *waiting])
        while True:
            if self.interactive:
                self.stdout.write("> ")
                self.stdout.flush()
            try:
                line = self.stdin.readline()
            except KeyboardInterrupt:
                line = ""
            if not line:
                if self.interactive:
                    self.stdout.write("\nGoodbye.\n")
                return 0
            text = line.rstrip("\n")
            pick = self._pick(text)
            self.fresh = True
            if pick is not None:
                self._send(pick=pick)
            else:
                self._send(text=text)
