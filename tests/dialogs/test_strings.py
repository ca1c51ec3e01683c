"""The strings the code uses literally are the ones the checker requires."""

from __future__ import annotations

import re
from pathlib import Path

from dialogs.strings import REQUIRED_STRINGS, VISIT_STRINGS

ROOT = Path(__file__).parent.parent.parent
LITERAL = re.compile(r"""["'](strings\.[a-z][a-z0-9_]*)["']""")


def test_required_strings_match_the_code() -> None:
    used: set[str] = set()
    for folder in ("bot", "dialogs", "store"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name != "strings.py":
                used.update(LITERAL.findall(path.read_text(encoding="utf-8")))
    assert used == set(REQUIRED_STRINGS | VISIT_STRINGS)
