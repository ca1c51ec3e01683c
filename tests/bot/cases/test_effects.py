"""The effect table: every effect the engine may ask for is bound, and nothing else is."""

from __future__ import annotations

from bot.cases.effects import HANDLERS
from dialogs.effects import EFFECTS


def test_the_table_binds_exactly_the_declared_effects() -> None:
    assert set(HANDLERS) == set(EFFECTS)
    assert all(handler.__doc__ for handler in HANDLERS.values())
