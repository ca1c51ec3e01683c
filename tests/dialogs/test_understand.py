"""Understanding typed text: commands, choices, cleaning."""

from __future__ import annotations

import pytest

from dialogs.schema import Pack
from dialogs.types import Choice
from dialogs.understand import clean_text, match_choice, match_command

AREAS = [
    Choice(value="birmingham_east", label="Birmingham East"),
    Choice(value="birmingham_west", label="Birmingham West"),
    Choice(value="coventry", label="Coventry"),
]
YES_NO_UNKNOWN = [
    Choice(value="yes", label="Yes"),
    Choice(value="no", label="No"),
    Choice(value="unknown", label="Not known"),
]


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("help", "help"),
        ("HELP", "help"),
        ("?", "help"),
        ("Cancel", "cancel"),
        ("stop", "cancel"),
        ("start over", "start_over"),
        ("start  over!", "start_over"),
        ("strat over", "start_over"),
        ("menu", "menu"),
        ("main menu", "menu"),
        ("helpful colleague", None),
        ("I want to stop feeling like this", None),
    ],
)
def test_commands(pack: Pack, text: str, command: str | None) -> None:
    assert match_command(text, pack.meta.commands) == command


@pytest.mark.parametrize(
    ("text", "choices", "value"),
    [
        ("3", AREAS, "coventry"),
        ("4", AREAS, None),
        ("0", AREAS, None),
        ("coventry", AREAS, "coventry"),
        ("Conventry", AREAS, "coventry"),
        ("birmingham east", AREAS, "birmingham_east"),
        ("birmingham", AREAS, None),  # two match: ambiguous, asked again
        ("birmingham_west", AREAS, "birmingham_west"),
        ("no", YES_NO_UNKNOWN, "no"),
        ("not known", YES_NO_UNKNOWN, "unknown"),
        ("dunno", YES_NO_UNKNOWN, None),
        ("", YES_NO_UNKNOWN, None),
        ("🚓", YES_NO_UNKNOWN, None),
    ],
)
def test_match_choice(text: str, choices: list[Choice], value: str | None) -> None:
    chosen = match_choice(text, choices)
    assert (chosen.value if chosen else None) == value


def test_clean_text_removes_terminal_escapes_and_direction_overrides() -> None:
    assert clean_text("\x1b[2J\x1b[31mred\x1b[0m\r\n") == "red"
    assert clean_text("a\u202eb\u200bc\x00d") == "abcd"
    assert clean_text("line one\nline two\tend") == "line one\nline two\tend"
    assert clean_text("Café 🚓") == "Café 🚓"
