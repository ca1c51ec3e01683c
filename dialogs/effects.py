"""The effects a pack may ask for: their parameters and the outcomes they can report.

This is the contract between the engine and the router: the pack checker verifies that every
`effect:` step names an effect declared here, binds its required parameters and branches only on
outcomes it can produce; a test verifies the router implements every effect declared here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EFFECTS", "VISIT_EFFECTS", "EffectSpec"]


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

_OUTCOMES = frozenset({"already", "denied", "not_found"})

#: The effects of the visit flows (`dialogs.visits`).
VISIT_EFFECTS: dict[str, EffectSpec] = {
    "check_visitor": EffectSpec((), frozenset({"visitor", "not_visitor"})),
    "request_visit": EffectSpec(
        ("visitee", "investigation", "visit_nature", "capacity", "proposed_on"),
        frozenset({"requested", "duplicate", "not_visitor"}),
    ),
    "list_my_visits": EffectSpec((), frozenset({"waiting", "decided", "none"})),
    "check_visit_step": EffectSpec(("visit", "visit_action"), _OUTCOMES | {"open"}),
    "seek_visit_guidance": EffectSpec(("visit",), _OUTCOMES | {"sought", "no_liaison"}),
    "give_visit_guidance": EffectSpec(("visit", "guidance"), _OUTCOMES | {"given"}, ("guidance_text",)),
    "record_visit_issues": EffectSpec(("visit", "issues"), _OUTCOMES | {"recorded"}),
    "refer_visit": EffectSpec(("visit",), _OUTCOMES | {"referred", "no_commissioner"}),
    "approve_visit": EffectSpec(("visit", "plan", "debrief_wanted"), _OUTCOMES | {"approved"}),
    "decline_visit": EffectSpec(("visit", "reason"), _OUTCOMES | {"declined"}),
    "record_visit_debrief": EffectSpec(("visit", "debrief_text"), _OUTCOMES | {"recorded"}),
}


EFFECTS: dict[str, EffectSpec] = {
    "lookup_person": EffectSpec(("email",), frozenset({"known", "unknown", "self"})),
    "association_for_role": EffectSpec(("role",), frozenset({"one", "ask", "none"})),
    "record_consent": EffectSpec(("case",), frozenset({"recorded", "already", "denied", "not_found"})),
    "open_case": EffectSpec(REPORT_SLOTS, frozenset({"opened", "repeat", "duplicate"}), REPORT_OPTIONAL),
    "list_my_cases": EffectSpec((), frozenset({"some", "none"})),
    "show_case": EffectSpec(("case",), frozenset({"ok", "victim", "welfare", "denied", "not_found"})),
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
    "record_hospital_admission": EffectSpec(
        ("case",), frozenset({"recorded", "already", "denied", "not_found"})
    ),
    "tell_supervisor": EffectSpec(("email", "update_every"), frozenset({"told", "self"})),
    "read_welfare": EffectSpec(("case",), frozenset({"shown", "denied", "not_found"})),
    "search_directory": EffectSpec(("query",), frozenset({"found", "last", "none"}), ("page",)),
    "report_figures": EffectSpec((), frozenset({"ok", "denied", "not_their_area"}), ("request",)),
    **VISIT_EFFECTS,
}
