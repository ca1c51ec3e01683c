"""The console channel: piped answers, numbered choices, clean exit, data surviving a restart."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from bot.channels.console.adapter import Console, render_replies
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


def test_the_command_survives_a_restart(tmp_path: Path, pack: Pack) -> None:
    database = f"sqlite:///{tmp_path / 'chat.db'}"

    def chat(email: str, lines: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "chat", "--as", email, "--db", database],
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    first = chat(SUPERVISOR, REPORT[:6])  # stop half-way through the report
    assert first.returncode == 0, first.stderr
    second = chat(SUPERVISOR, REPORT[6:])
    assert second.returncode == 0, second.stderr
    assert pack.text("strings.welcome_back").split(".")[0] in second.stdout
    assert "Case OH-2026-0001 is open." in second.stdout
    victim = chat(VICTIM, ["what happens next", "done", "federation"])
    assert "OH-2026-0001" in victim.stdout and "0121 700 1200" in victim.stdout


def test_chat_refuses_an_address_that_is_not_a_work_email(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "chat",
            "--as",
            "someone@gmail.com",
            "--db",
            f"sqlite:///{tmp_path}/x.db",
        ],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "not a work email" in result.stderr


def test_reminders_wait_in_the_console_and_their_buttons_work(tmp_path: Path, pack: Pack) -> None:
    database = f"sqlite:///{tmp_path / 'chat.db'}"

    def hampshire(*args: str, lines: list[str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args, "--db", database],
            input="\n".join(lines or []) + "\n",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert hampshire("chat", "--as", SUPERVISOR, lines=REPORT).returncode == 0
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
