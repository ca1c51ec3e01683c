"""Every `strings.…` id the code names literally is in REQUIRED_STRINGS, so the pack checker demands it."""

from __future__ import annotations

import re
from pathlib import Path

from dialogs.strings import REQUIRED_STRINGS

ROOT = Path(__file__).resolve().parents[1]


def test_code_names_only_required_strings() -> None:
    used = {
        match
        for folder in ("bot", "dialogs", "store")
        for file in (ROOT / folder).rglob("*.py")
        for match in re.findall(r"[\"'](strings\.[a-z][a-z0-9_]*)[\"']", file.read_text(encoding="utf-8"))
    }
    assert used - REQUIRED_STRINGS == set()
    assert "strings.slack_see_dm" in used  # the scan reaches the adapters
