"""The console channel: talk to the bot in a terminal, interactively or with answers piped in.

Replies print as text, facts as bullet lines and choices as `[1] …`, numbered on through one
output (a reminder lists `[1] Done: …`, `[2] Not applicable: …`, `[3] Remind me later: …` for each
of its points); the person answers with the number, the label or free text. Once a reminder's
button is picked, the reminder is printed again as it now stands: who did what, and the choices
left. One line is one answer; the end of input ends the session. The
console trusts `--as`: it is for a person at their own machine with access to the database.
It reaches the bot only through the port (`bot.channels.port.Port`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from bot.channels.inbound import Inbound
from bot.channels.port import Port
from dialogs.notices import reminder_of
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
        # The reminder last acted on, and how it was last printed (to print it again when it changes).
        self.watching: tuple[int, str] | None = None
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
        # The console prints a reminder again itself (`_refresh`): the turn's updates are not needed.
        self._show(self.port.handle(self._inbound(text=text, pick=pick, resume=resume)).replies)
        nudge_id = reminder_of(pick.step) if pick else None
        if nudge_id is not None:
            self.watching = (nudge_id, "")
        self._refresh()

    def _refresh(self) -> None:
        """Print the reminder last acted on again, if what it shows has changed."""
        if self.watching is None:
            return
        nudge_id, shown = self.watching
        replies = self.port.reminder(nudge_id, email=self.email)
        if replies is None:
            self.watching = None
            return
        text = render_replies(replies)
        if text != shown:
            self.watching = (nudge_id, text)
            self._show(replies)
        if not any(r.choices for r in replies):
            self.watching = None  # every point answered: nothing more to follow

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
