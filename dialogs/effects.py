"""The effects a pack may ask for: their parameters and the outcomes they can report.

This is the contract between the engine and the router: the pack checker verifies that every
`effect:` step names an effect declared here, binds its required parameters and branches only on
outcomes it can produce; a test verifies the router implements every effect declared here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EFFECTS", "EffectSpec"]


@dataclass(frozen=True)
class EffectSpec:
    """An effect's parameters (bound from slots) and possible outcomes."""

    params: tuple[str, ...]
    outcomes: frozenset[str]
    optional: tuple[str, ...] = ()


#: The answers `open_case` reads. The report flow must collect the required ones.
REPORT_SLOTS = (
    "victim_email",
    "victim_role",
    "occurred_at",
    "location",
    "area",
    "kind",
    "injury_level",
    "suspect_arrested",
    "colleagues_present",
    "welfare_how",
    "welfare_support",
    "welfare_handover",
    "consent_contact",
)
REPORT_OPTIONAL = (
    "hate_motivated",
    "hate_strand",
    "injury_detail",
    "medical_care",
    "hospitalised",
    "crime_reference",
    "association",
    "consent_association",
)

EFFECTS: dict[str, EffectSpec] = {
    "lookup_person": EffectSpec(("email",), frozenset({"known", "unknown", "self"})),
    "association_for_role": EffectSpec(("role",), frozenset({"one", "ask", "none"})),
    "record_consent": EffectSpec(("case",), frozenset({"recorded", "already", "denied", "not_found"})),
    "open_case": EffectSpec(REPORT_SLOTS, frozenset({"opened", "duplicate"}), REPORT_OPTIONAL),
    "list_my_cases": EffectSpec((), frozenset({"some", "none"})),
    "show_case": EffectSpec(("case",), frozenset({"ok", "denied", "not_found"})),
    "mark_point_done": EffectSpec(("case", "point"), frozenset({"done", "already", "denied", "not_found"})),
    "mark_point_not_applicable": EffectSpec(
        ("case", "point", "reason"), frozenset({"done", "already", "denied", "not_found"})
    ),
    "assign_investigator": EffectSpec(
        ("case", "email"),
        frozenset({"assigned", "conflict_victim", "conflict_present", "denied", "not_found"}),
    ),
    "load_my_progress": EffectSpec((), frozenset({"victim", "none"})),
    "snooze_point": EffectSpec(("case", "point"), frozenset({"snoozed", "already", "denied", "not_found"})),
    "record_decision": EffectSpec(
        ("case", "decision", "decided_at"), frozenset({"recorded", "denied", "not_found"})
    ),
    "set_update_interval": EffectSpec(("case", "days"), frozenset({"set", "denied", "not_found"})),
    "search_directory": EffectSpec(("query",), frozenset({"found", "last", "none"}), ("page",)),
}
