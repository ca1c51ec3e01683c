"""The console channel: piped answers, numbered choices, clean exit, data surviving a restart."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.channels.console.adapter import Console, render_replies
from bot.cli import main
from bot.conversation import RuntimePort
from bot.runtime import Runtime
from dialogs.render import fill, point_title
from dialogs.schema import Pack
from dialogs.types import Choice, Fact, Reply

SUPERVISOR = "sgt.ravi.kaur@example.police.uk"
VICTIM = "pc.amy.hart@example.police.uk"
REPORT = [
    "report assault",
    VICTIM,
    "1",
    "officer",
    "yesterday 10pm",
    "Broad Street",
    "Coventry",
    "spitting",
    "no",
    "none",
    "no",
    "skip",
    "none",
    "Shaken",
    "Someone to talk to",
    "none",
    "yes",
    "no",
    "1",
]


def test_replies_render_with_numbered_choices_and_indented_facts() -> None:
    reply = Reply(
        key="strings.x",
        text="Pick one\x1b[2J",
        facts=(Fact(label="Phone", value="0121 700 1200\nweekdays"),),
        choices=(Choice(value="a", label="First"), Choice(value="b", label="Second")),
    )
    assert (
        render_replies([reply])
        == "Pick one\n  • Phone: 0121 700 1200\n      weekdays\n  [1] First\n  [2] Second"
    )


def run_console(runtime: Runtime, email: str, lines: list[str]) -> str:
    stdout = io.StringIO()
    status = Console(
        RuntimePort(runtime), email=email, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=stdout
    ).run()
    assert status == 0
    return stdout.getvalue()


def test_piped_answers_open_a_case_and_the_victim_sees_it(sqlite_runtime: Runtime, pack: Pack) -> None:
    output = run_console(sqlite_runtime, SUPERVISOR, REPORT)
    assert "Case OH-2026-0001 is open." in output
    assert "  [1] Confirm and open the case" in output
    output = run_console(sqlite_runtime, VICTIM, ["what happens next"])
    assert pack.text("strings.next_your_case") in output
    assert "OH-2026-0001" in output


def test_a_number_picks_the_choice_shown(sqlite_runtime: Runtime) -> None:
    output = run_console(sqlite_runtime, "pc.ben.ward@example.police.uk", ["3", "fed"])
    assert "West Midlands Police Federation" in output
    assert "0121 700 1200" in output


@dataclass
class Ran:
    """What one `hampshire` command did."""

    status: int
    stdout: str
    stderr: str


@pytest.fixture
def hampshire(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Ran]:
    """Run a `hampshire` command in this process on one database file, answers fed to its stdin.

    Each call builds the runtime afresh from the file, as a new process would: state carries over
    only through the database.
    """
    database = f"sqlite:///{tmp_path / 'chat.db'}"

    def run(*args: str, lines: Sequence[str] = ()) -> Ran:
        monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
        capsys.readouterr()
        status = main([*args, "--db", database])
        out, err = capsys.readouterr()
        return Ran(status, out, err)

    return run


def test_the_command_survives_a_restart(hampshire: Callable[..., Ran], pack: Pack) -> None:
    first = hampshire("chat", "--as", SUPERVISOR, lines=REPORT[:6])  # stop half-way through the report
    assert first.status == 0, first.stderr
    second = hampshire("chat", "--as", SUPERVISOR, lines=REPORT[6:])
    assert second.status == 0, second.stderr
    assert pack.text("strings.welcome_back").split(".")[0] in second.stdout
    assert "Case OH-2026-0001 is open." in second.stdout
    victim = hampshire("chat", "--as", VICTIM, lines=["what happens next", "done", "federation"])
    assert "OH-2026-0001" in victim.stdout and "0121 700 1200" in victim.stdout


def test_chat_refuses_an_address_that_is_not_a_work_email(hampshire: Callable[..., Ran]) -> None:
    result = hampshire("chat", "--as", "someone@gmail.com")
    assert result.status == 2 and "not a work email" in result.stderr


def test_reminders_wait_in_the_console_and_their_buttons_work(
    hampshire: Callable[..., Ran], pack: Pack
) -> None:
    assert hampshire("chat", "--as", SUPERVISOR, lines=REPORT).status == 0
    result = hampshire("nudge", "run-once", "--now", "2099-01-01T10:00:00+00:00")
    assert "messages queued" in result.stdout, result.stderr
    shown = hampshire("chat", "--as", SUPERVISOR, lines=["8"])
    assert pack.text("strings.console_pending") in shown.stdout
    reminder, after = shown.stdout.split(pack.text("strings.console_pending"))[1].split(
        fill(pack, "strings.point_snoozed")
    )
    assert reminder.count("Reminder for case OH-2026-0001") == 1  # one reminder for the case
    first = point_title(pack, "crime_recorded")
    assert f"  [6] Done: {first} (OH-2026-0001)" in reminder  # numbered on after the menu's five
    assert f"  [7] Not applicable: {first} (OH-2026-0001)" in reminder
    assert f"  [8] Remind me later: {first} (OH-2026-0001)" in reminder
    assert "(follow-up 1)" in reminder and "(follow-up 2)" in reminder
    # `8` put off the first point only; the reminder is shown again as it now stands.
    assert f"{first}: {SUPERVISOR} asked to be reminded later" in after
    assert f"Remind me later: {first}" not in after and "  [6] Done: " in after
    done = hampshire("chat", "--as", SUPERVISOR, lines=["1"])
    assert pack.text("strings.console_pending") not in done.stdout  # shown once, then delivered


def test_a_process_of_its_own_converses_with_piped_answers(tmp_path: Path) -> None:
    """The one smoke test in a process of its own: the entry point, piped stdin, a fresh database."""
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--as", VICTIM, "--db", f"sqlite:///{tmp_path / 'x.db'}"],
        input="federation\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "West Midlands Police Federation" in result.stdout and "0121 700 1200" in result.stdout
