"""Named pure actions: small pieces of logic a flow runs between steps.

An action receives the answers and returns the answers to update and an outcome key the flow can
branch on (`on:`). Actions never perform I/O; that is what effects are for. Each declares the
slots it sets and the outcomes it returns, so the pack checker can verify the flows that use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import JsonValue

from dialogs.expect import find_case_reference
from dialogs.plan import case_facts

__all__ = ["ACTIONS", "ActionResult", "ActionSpec"]

ActionResult = tuple[dict[str, JsonValue], str]


@dataclass(frozen=True)
class ActionSpec:
    """An action, the slots it sets and the outcomes it can return."""

    run: Callable[[Mapping[str, JsonValue]], ActionResult]
    sets: tuple[str, ...]
    outcomes: frozenset[str]


def first_page(answers: Mapping[str, JsonValue]) -> ActionResult:
    """Starts a new directory search at its first page."""
    return {"page": 0}, "ok"


def next_page(answers: Mapping[str, JsonValue]) -> ActionResult:
    """Moves a directory search on to its next page."""
    page = answers.get("page")
    return {"page": (page if isinstance(page, int) else 0) + 1}, "ok"


def hate_crime_check(answers: Mapping[str, JsonValue]) -> ActionResult:
    """Says whether the report being made is a hate crime ("yes"/"no"), to signpost networks."""
    return {}, "yes" if case_facts(answers)["hate_crime"] else "no"


def extract_case_reference(answers: Mapping[str, JsonValue]) -> ActionResult:
    """Finds a case reference ("OH-2026-0042") in the text that started the flow."""
    reference = find_case_reference(str(answers.get("request") or ""))
    return ({"case": reference}, "found") if reference else ({}, "missing")


ACTIONS: dict[str, ActionSpec] = {
    "extract_case_reference": ActionSpec(extract_case_reference, ("case",), frozenset({"found", "missing"})),
    "first_page": ActionSpec(first_page, ("page",), frozenset({"ok"})),
    "next_page": ActionSpec(next_page, ("page",), frozenset({"ok"})),
    "hate_crime_check": ActionSpec(hate_crime_check, (), frozenset({"yes", "no"})),
}
