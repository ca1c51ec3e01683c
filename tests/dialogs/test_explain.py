"""The plan in plain words, as a force's single point of contact reviews it."""

from __future__ import annotations

import pytest

from dialogs.explain import (
    PointExplanation,
    explain_plan,
    explain_visits,
    explanation_markdown,
    explanation_text,
)
from dialogs.schema import CompletedBy, DueRule, OwnerSpec, Pack


def _point(pack: Pack, code: str) -> PointExplanation:
    return next(item for item in explain_plan(pack) if item.code == code)


@pytest.mark.parametrize(
    ("code", "due"),
    [
        ("crime_recorded", "24 hours after the report"),
        ("decision_explained", "5 working days after a key decision (1 working day with enhanced rights)"),
        (
            "victim_updated",
            "every 28 days, or the interval agreed with the victim (first 28 days after the report)",
        ),
        ("impact_statement_requested", "5 working days after the charge"),
        ("chief_officer_notified_via_fim", "1 hour after the report"),
        (
            "welfare_contact",
            "24 hours after the report; follow-ups 72 hours after the report, 28 days after the report",
        ),
        ("raised_at_trm", "at the next TRM (Mondays at 10:00, weekly) at least 24 hours after the report"),
    ],
)
def test_when_a_point_falls_due_is_worded_from_its_rule(pack: Pack, code: str, due: str) -> None:
    assert _point(pack, code).due == due


@pytest.mark.parametrize(
    ("code", "applies"),
    [
        ("crime_recorded", "every case"),
        ("chief_officer_notified_via_fim", "when the victim is in hospital"),
        ("colleagues_welfare_offered", "when colleagues were present"),
        (
            "staff_association_notified",
            "when victim role is officer or staff or special_constable and has association",
        ),
        (
            "vrr_explained",
            "once a decision to take no further action or the discontinuance of the prosecution is recorded",
        ),
    ],
)
def test_when_a_point_applies_is_worded_from_its_facts_and_trigger(
    pack: Pack, code: str, applies: str
) -> None:
    assert _point(pack, code).applies == applies


def test_reminders_and_escalation_come_from_the_point(pack: Pack) -> None:
    assert _point(pack, "chief_officer_notified_via_fim").reminders == (
        "urgent: reminded when due, then every 1 hour until done; escalated to the area's senior "
        "leadership team (the force's Op Hampshire SPOC where the area has none) 1 hour after it falls due"
    )
    points = [p.model_copy(update={"escalate_after_hours": None}) for p in pack.plan.points]
    quiet = pack.model_copy(update={"plan": pack.plan.model_copy(update={"points": points})})
    assert _point(quiet, "crime_recorded").reminders.endswith("; never escalated")


def test_a_point_with_no_default_note_is_the_seeds_rule(pack: Pack) -> None:
    points = [
        p.model_copy(update={"default_note": None, "due": DueRule(days=3)}) if p.code == "slt_informed" else p
        for p in pack.plan.points
    ]
    changed = pack.model_copy(update={"plan": pack.plan.model_copy(update={"points": points})})
    text = explanation_text(changed)
    block = next(b for b in text.split("\n\n") if "[slt_informed]" in b)
    assert "Rule: as the seeds give it" in block and "Falls due: 3 days after the report" in block
    assert f"{len(pack.plan.points) - 1} use a default of the pack" in text


def test_point_1_of_the_ten_point_plan_is_not_claimed_by_crime_recording(pack: Pack) -> None:
    recorded = _point(pack, "crime_recorded")
    assert recorded.citations and not any(c.startswith("seed 000") for c in recorded.citations)
    assert recorded.default is not None and "point 1" in recorded.default


def test_markdown_has_a_section_per_point(pack: Pack) -> None:
    markdown = explanation_markdown(pack)
    assert markdown.count("\n## ") == len(pack.plan.points)
    assert "- **Cites:** seed 000, point 7: " in markdown


def test_a_point_the_senior_leaders_own_escalates_to_the_spoc(pack: Pack) -> None:
    """As the sweep sends it: nobody is escalated to about a point they own."""
    owned = [p for p in pack.plan.points if pack.plan.owners[p.owner].held_by == "area_leaders"]
    assert owned and all(p.escalate_after_hours is not None for p in owned)
    for point in owned:
        reminders = _point(pack, point.code).reminders
        assert "escalated to the force's Op Hampshire SPOC " in reminders
        assert "senior leadership team" not in reminders


def test_owners_come_from_the_packs_roles_and_a_role_it_adds_is_explained(pack: Pack) -> None:
    assert _point(pack, "crime_recorded").owner == "supervisor (the reporting supervisor)"
    assert _point(pack, "victim_updated").owner == (
        "io (the investigating officer; until one is assigned, the reporting supervisor is asked to "
        "assign one)"
    )
    owners = {**pack.plan.owners, "fed_rep": OwnerSpec(held_by="area_leaders")}
    points = [
        p.model_copy(update={"owner": "fed_rep"}) if p.code == "crime_recorded" else p
        for p in pack.plan.points
    ]
    added = pack.model_copy(
        update={"plan": pack.plan.model_copy(update={"owners": owners, "points": points})}
    )
    recorded = _point(added, "crime_recorded")
    assert recorded.owner == "fed_rep (the senior leadership team of the case's area)"
    assert "escalated to the force's Op Hampshire SPOC" in recorded.reminders
    assert "[crime_recorded]" in explanation_text(added)


@pytest.mark.parametrize(
    ("evidence", "line"),
    [
        (CompletedBy(event="investigator_assigned"), "closed by the bot when the IO is assigned"),
        (
            CompletedBy(delivered="victim_decision", to="victim"),
            "closed by the bot when the notice that a decision was recorded is delivered to the victim",
        ),
        (
            CompletedBy(delivered="slt_new_case", to="area_leaders"),
            "closed by the bot when the notice of the new case is delivered to the senior leadership team "
            "of the case's area",
        ),
    ],
)
def test_a_point_the_bot_closes_itself_says_so(pack: Pack, evidence: CompletedBy, line: str) -> None:
    points = [
        p.model_copy(update={"completed_by": evidence}) if p.code == "crime_recorded" else p
        for p in pack.plan.points
    ]
    changed = pack.model_copy(update={"plan": pack.plan.model_copy(update={"points": points})})
    assert _point(changed, "crime_recorded").closed_by_bot == line
    block = next(b for b in explanation_text(changed).split("\n\n") if "[crime_recorded]" in b)
    assert f"Closes itself: {line}" in block


def test_a_point_only_a_person_closes_has_no_such_line(pack: Pack) -> None:
    assert _point(pack, "crime_recorded").closed_by_bot is None
    block = next(b for b in explanation_text(pack).split("\n\n") if "[crime_recorded]" in b)
    assert "Closes itself" not in block


def test_the_opcc_visit_steps_are_explained(pack: Pack) -> None:
    steps = {code: dict(fields) for code, _, fields in explain_visits(pack)}
    assert steps["guidance_sought"]["Reminders"] == (
        "every 24 hours while open; escalated to the Police and Crime Commissioner 48 hours after it is due"
    )
    assert steps["guidance_sought"]["Falls due"] == "1 working day after the step opens"
    assert steps["await_permission"]["Falls due"] == "24 hours before the proposed visit date"
    assert steps["debrief"]["Falls due"] == "3 days after the proposed visit date"
    assert steps["decision"]["Reminders"].endswith("; never escalated")
    text = explanation_text(pack)
    assert "V6. Debrief after the visit [debrief]" in text
    assert explanation_markdown(pack).count("\n### ") == len(steps)
