"""The README's first command as written: `make chat`, with and without `AS=`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def chat_command(*args: str) -> str:
    """The line `make chat` would run to start the bot (a dry run: nothing is installed or run)."""
    shown = subprocess.run(
        ["make", "--no-print-directory", "-n", "chat", *args],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    [line] = [line for line in shown.stdout.splitlines() if "hampshire chat" in line]
    return line


def test_make_chat_alone_asks_for_the_email_rather_than_using_makes_own_as() -> None:
    assert chat_command().split("hampshire chat")[1].strip() == ""


def test_make_chat_with_as_signs_in_as_that_person() -> None:
    line = chat_command("AS=sgt.ravi.kaur@example.police.uk")
    assert line.endswith("hampshire chat --as sgt.ravi.kaur@example.police.uk")
