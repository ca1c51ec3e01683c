"""The README says what a newcomer does and sees; these tests hold it to that.

`test_the_journey_works_as_written` reads the numbered steps under "Two commands" and runs their
commands in order, in a terminal of its own (a pty, so Ctrl-D is Ctrl-D), against a new SQLite
file, answering the report's questions as a newcomer would. `make chat AS=…` runs the very line
`make -n chat AS=…` prints (so the Makefile's mapping is part of what is tested), and `.venv/bin/`
is the environment running the tests (the same one under `make test`). Each step's promise is
checked by the pack's own strings and directory, not by the README's wording. A step written in a
way the test does not know fails it, so the README and the test change together.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.channels.slack.manifest import BOT_EVENTS, BOT_SCOPES
from dialogs.loader import load_pack
from dialogs.schema import Pack
from tests.test_makefile import chat_command

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
#: The bound on any one wait for the bot (a hung step fails instead of stalling the suite).
PATIENCE = 120.0

#: What the newcomer answers to each question of the report (by the question's string key).
ANSWERS = {
    "ask_confirm_new_person": "yes",
    "ask_victim_role": "officer",
    "ask_occurred_at": "yesterday 10pm",
    "ask_location": "Broad Street, outside the station",
    "ask_kind": "physical assault",
    "ask_hate_motivated": "no",
    "ask_injury_level": "minor",
    "ask_injury_detail": "A bruised arm",
    "ask_medical_care": "first aid",
    "ask_suspect_arrested": "yes",
    "ask_crime_reference": "skip",
    "ask_colleagues_present": "none",
    "ask_welfare_how": "Shaken, but wants to carry on",
    "ask_welfare_support": "A call from TRiM",
    "ask_welfare_handover": "none",
    "ask_consent_contact": "yes",
    "ask_consent_association": "yes",
    "summary_intro": "confirm",
}

#: One action of a step, in the order the step's text names them.
ACTION = re.compile(
    r"`make chat AS=(?P<chat>[^`\s]+)`"
    r"|[Tt]ype `(?P<type>[^`]+)`"
    r"|answer the questions\s+about `(?P<victim>[^`]+)`"
    r"|picking `(?P<area>[^`]+)` as the area"  # read with the questions it belongs to
    r"|[Pp]ress Ctrl-D"
    r"|`(?P<run>\.venv/bin/hampshire [^`]+)`"
    r"|`\[(?P<number>\d+)\] (?P<label>[^`…]+?)…?`"
    r"|`(?P<unknown>[^`]+)`"
)

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def journey_steps() -> list[str]:
    """The numbered steps of the README's journey, each joined into one line."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Two commands\n", 1)[1].split("\n#", 1)[0]
    steps: list[str] = []
    for line in section.splitlines():
        if re.match(r"\d+\. ", line):
            steps.append(line.split(". ", 1)[1])
        elif steps and line.startswith("   ") and line.strip():
            steps[-1] += " " + line.strip()
    return steps


def fragment(pack: Pack, key: str) -> str:
    """The longest stretch of a string's text without a placeholder, as the console prints it."""
    pieces = re.split(r"\{[^}]*\}", pack.text(f"strings.{key}"))
    return flat(max(pieces, key=len))


def flat(text: str) -> str:
    return " ".join(text.split())


def a_few_days_after_today() -> str:
    """10:00 UTC four days from today: a report made today is due, and overdue, by then."""
    today = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    return (today + timedelta(days=4)).isoformat()


@dataclass
class Terminal:
    """One `hampshire chat` in a pseudo-terminal: type a line, read what came back."""

    command: list[str]
    env: dict[str, str]
    #: What the chat prints when it first waits for a line.
    first_prompt: str = "\n> "
    screen: str = ""
    since: str = ""
    process: subprocess.Popen[bytes] = field(init=False)
    fd: int = field(init=False)

    def __post_init__(self) -> None:
        self.fd, child = pty.openpty()
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdin=child, stdout=child, stderr=child, close_fds=True
        )
        os.close(child)
        self.read_to_prompt(self.first_prompt)

    def read_to_prompt(self, prompt: str = "\n> ") -> str:
        """Everything printed until the console waits for the next line (its `> ` prompt)."""
        self.since = ""
        while not self.since.endswith(prompt):
            # Bounded without a clock: each wait by PATIENCE, the whole answer by its size.
            assert len(self.since) < 1_000_000, "the bot printed a megabyte without asking anything"
            ready, _, _ = select.select([self.fd], [], [], PATIENCE)
            assert ready, f"the bot stopped answering; it last printed:\n{self.screen[-3000:]}"
            try:
                chunk = os.read(self.fd, 65536).decode(errors="replace")
            except OSError:  # the child closed the terminal
                chunk = ""
            assert chunk, f"the chat ended early; it last printed:\n{self.screen[-3000:]}"
            chunk = chunk.replace("\r\n", "\n")
            self.screen += chunk
            self.since += chunk
        return self.since

    def type(self, line: str) -> str:
        os.write(self.fd, line.encode() + b"\n")
        return self.read_to_prompt()

    def close(self) -> None:
        """Ctrl-D, as the README says: the chat ends and exits cleanly."""
        os.write(self.fd, b"\x04")
        assert self.process.wait(timeout=PATIENCE) == 0
        os.close(self.fd)

    def abandon(self) -> None:
        """Ends a chat a failed step left open, so no process outlives the test."""
        self.process.kill()
        self.process.wait(timeout=PATIENCE)
        os.close(self.fd)


@dataclass
class Newcomer:
    """Follows the README's steps and checks what each one promises."""

    pack: Pack
    env: dict[str, str]
    database: Path
    terminal: Terminal | None = None
    area: str | None = None
    reference: str | None = None
    escalated: int = 0

    def chat(self, email: str) -> None:
        assert self.terminal is None, "the README starts a chat while one is open: say to press Ctrl-D"
        line = chat_command(f"AS={email}")
        command = shlex.split(line.removeprefix(".venv/bin/").strip())
        command[0] = str(Path(sys.executable).parent / command[0])
        assert command[1:] == ["chat", "--as", email]
        self.terminal = Terminal(command, self.env)
        assert str(self.database.resolve()) in self.terminal.screen  # it says where the database is

    def type(self, text: str) -> None:
        assert self.terminal is not None, f"the README says to type {text!r} outside a chat"
        shown = flat(self.terminal.type(text))
        if text == "what happens next":
            assert fragment(self.pack, "next_your_case") in shown
            assert self.reference is not None and self.reference in shown
            assert fragment(self.pack, "topic_rights") in shown
        elif text == "federation":
            [federation] = [e for e in self.pack.directory.entries if e.key == "police_federation"]
            assert federation.phone and federation.phone in shown
        elif text != "report assault":
            pytest.fail(f"the README says to type {text!r}: teach this test what that promises")

    def answer_report(self, victim: str) -> None:
        """Answers every question of the report, whatever the order, and confirms it."""
        assert self.terminal is not None and self.area is not None
        answers = {"ask_victim_email": victim, "ask_area": self.area, **ANSWERS}
        shown = flat(self.terminal.since)
        for _ in range(3 * len(answers)):
            if fragment(self.pack, "case_opened") in shown:
                break
            asked = [(shown.rfind(fragment(self.pack, key)), key) for key in answers]
            where, key = max(asked)
            assert where >= 0, f"a question the newcomer has no answer for:\n{self.terminal.since}"
            shown = flat(self.terminal.type(answers[key]))
        assert fragment(self.pack, "case_opened") in shown
        [self.reference] = re.findall(r"\bOH-\d{4}-\d{4}\b", shown)
        for point in ("crime_recorded", "investigator_assigned"):  # its plan points are listed
            [spec] = [p for p in self.pack.plan.points if p.code == point]
            assert flat(spec.title) in shown

    def run(self, written: str) -> None:
        assert self.terminal is None, "the README runs a command inside a chat: say to press Ctrl-D"
        command = shlex.split(written)
        command[0] = str(Path(sys.executable).parent / Path(command[0]).name)
        if command[1:3] == ["nudge", "run-once"]:
            # "use a date a few days after your report": today's report is due by then.
            at = command.index("--now") + 1
            datetime.fromisoformat(command[at])  # the README's example is a valid time
            command[at] = a_few_days_after_today()
        done = subprocess.run(
            command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=PATIENCE
        )
        assert done.returncode == 0, done.stderr
        assert "WARNING" not in done.stderr, done.stderr
        if command[1:3] == ["nudge", "run-once"]:
            [escalated] = re.findall(r"(\d+) escalated", done.stdout)
            self.escalated = int(escalated)
            assert self.escalated > 0, done.stdout
        elif command[1:3] == ["people", "add"]:
            assert command[3] in done.stdout
        else:
            pytest.fail(f"the README runs {written!r}: teach this test what that promises")

    def sees(self, number: str, label: str) -> None:
        assert self.terminal is not None
        assert self.escalated, "a reminder's choices are promised before any sweep"
        assert re.search(rf"^\s*\[{number}\] {re.escape(label.strip())}", self.terminal.screen, re.M)

    def ctrl_d(self) -> None:
        assert self.terminal is not None
        self.terminal.close()
        self.terminal = None


def actions(step: str) -> Iterator[re.Match[str]]:
    yield from ACTION.finditer(step)


def test_the_journey_works_as_written(tmp_path: Path) -> None:
    pack = load_pack()
    database = tmp_path / "journey.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HAMPSHIRE_", "SLACK_", "MICROSOFT_"))}
    env |= {"HAMPSHIRE_DATABASE_URL": f"sqlite:///{database}", "XDG_DATA_HOME": str(tmp_path)}
    newcomer = Newcomer(pack, env, database)
    steps = journey_steps()
    assert len(steps) >= 4
    try:
        follow(newcomer, steps)
    finally:
        if newcomer.terminal is not None:
            newcomer.terminal.abandon()


def test_make_chat_alone_asks_for_the_work_email_and_signs_in(tmp_path: Path) -> None:
    # The README's first command as written: no AS, so the chat asks who you are.
    database = tmp_path / "first.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HAMPSHIRE_", "SLACK_", "MICROSOFT_"))}
    env |= {"HAMPSHIRE_DATABASE_URL": f"sqlite:///{database}", "XDG_DATA_HOME": str(tmp_path)}
    command = shlex.split(chat_command().removeprefix(".venv/bin/").strip())
    assert command == ["hampshire", "chat"]
    command[0] = str(Path(sys.executable).parent / command[0])
    terminal = Terminal(command, env, first_prompt="Your work email: ")
    try:
        shown = flat(terminal.type("sgt.ravi.kaur@example.police.uk"))
        assert str(database.resolve()) in terminal.screen  # it says where the database is
        assert "not a work email" not in shown and shown.endswith(">")  # signed in, at the menu
        terminal.close()
    finally:
        if terminal.process.poll() is None:
            terminal.abandon()


def follow(newcomer: Newcomer, steps: list[str]) -> None:
    """Does what each step says, in order, checking its promise as it goes."""
    for step in steps:
        found_area = [a["area"] for a in actions(step) if a["area"]]
        newcomer.area = found_area[0] if found_area else newcomer.area
        for action in actions(step):
            found = action.groupdict()
            if found["chat"]:
                newcomer.chat(found["chat"])
            elif found["area"]:
                continue
            elif found["victim"]:
                assert newcomer.area, "the README must say which area to pick, so that its SLT step fits"
                newcomer.answer_report(found["victim"])
            elif found["type"]:
                newcomer.type(found["type"])
            elif found["run"]:
                newcomer.run(found["run"])
            elif found["number"]:
                newcomer.sees(found["number"], found["label"])
            elif found["unknown"]:
                pytest.fail(f"the README's journey names `{found['unknown']}`: teach this test what it is")
            else:
                newcomer.ctrl_d()
    assert newcomer.reference and newcomer.escalated
    if newcomer.terminal is not None:
        newcomer.ctrl_d()


def test_the_slack_scopes_and_events_it_lists_are_the_manifests() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    committed = json.loads((ROOT / "slack-manifest.json").read_text(encoding="utf-8"))
    [scopes] = re.findall(r"the scopes `([^`]+)`", text)
    [events] = re.findall(r"the events `([^`]+)`", text)
    assert sorted(scopes.split()) == sorted(BOT_SCOPES) == sorted(committed["oauth_config"]["scopes"]["bot"])
    assert sorted(events.split()) == sorted(BOT_EVENTS)
    assert sorted(events.split()) == sorted(committed["settings"]["event_subscriptions"]["bot_events"])
