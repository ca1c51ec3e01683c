"""From a report's facts to its plan points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dialogs.plan import applies, case_facts, plan_for
from dialogs.schema import Pack

REPORTED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
OCCURRED = REPORTED - timedelta(hours=11)
BASE = {
    "victim_role": "officer",
    "kind": "physical_assault",
    "hate_motivated": "no",
    "injury_level": "minor",
    "hospitalised": "no",
    "suspect_arrested": "yes",
    "colleagues_present": [],
}


def planned(pack: Pack, trigger: str = "report", **answers: object) -> dict[tuple[str, int], object]:
    facts = case_facts({**BASE, **answers})  # type: ignore[dict-item]
    points = plan_for(pack, facts, trigger=trigger, reported_at=REPORTED, occurred_at=OCCURRED)  # type: ignore[arg-type]
    return {(p.code, p.instance): p for p in points}


def test_facts() -> None:
    facts = case_facts({**BASE, "kind": "verbal_abuse", "hate_motivated": "yes", "colleagues_present": ["a"]})
    assert facts["hate_crime"] and facts["enhanced_rights"] and facts["colleagues_present"]
    assert not case_facts(BASE)["hate_crime"]
    assert applies({"victim_role": ["officer", "staff"]}, facts)
    assert not applies({"victim_role": "staff"}, facts)


def test_every_report_gets_the_always_points(pack: Pack) -> None:
    codes = {code for code, _ in planned(pack)}
    assert {
        "crime_recorded",
        "investigator_assigned",
        "statement_taken",
        "victim_updated",
        "vps_offered",
        "esafety_report",
        "welfare_contact",
        "slt_informed",
        "raised_at_trm",
        "staff_association_notified",
        "leaflet_given",
        "senior_review",
    } <= codes
    assert not codes & {
        "chief_officer_notified_via_fim",
        "hospital_payment_claimed",
        "colleagues_welfare_offered",
    }
    assert not codes & {"decision_explained", "vrr_explained", "impact_statement_requested"}


def test_hospitalised_adds_the_urgent_fim_point_and_the_payment(pack: Pack) -> None:
    points = planned(pack, hospitalised="yes")
    fim = points[("chief_officer_notified_via_fim", 1)]
    assert fim.urgent and fim.due_at == REPORTED + timedelta(hours=1)  # type: ignore[attr-defined]
    assert ("hospital_payment_claimed", 1) in points


def test_volunteers_have_no_staff_association_point(pack: Pack) -> None:
    assert ("staff_association_notified", 1) not in planned(pack, victim_role="volunteer")
    assert ("staff_association_notified", 1) in planned(pack, victim_role="staff")


def test_welfare_contact_has_two_follow_ups(pack: Pack) -> None:
    points = planned(pack)
    dues = [points[("welfare_contact", n)].due_at for n in (1, 2, 3)]  # type: ignore[attr-defined]
    assert dues == [
        REPORTED + timedelta(hours=24),
        REPORTED + timedelta(hours=72),
        REPORTED + timedelta(days=28),
    ]


def test_colleagues_present_get_a_welfare_check(pack: Pack) -> None:
    assert ("colleagues_welfare_offered", 1) in planned(
        pack, colleagues_present=["sam.lee@example.police.uk"]
    )


def test_hate_crime_shortens_the_decision_clock_to_one_working_day(pack: Pack) -> None:
    facts = case_facts({**BASE, "kind": "hate_crime"})  # type: ignore[dict-item]
    decided = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # a Friday
    hate = plan_for(
        pack, facts, trigger="key_decision", reported_at=REPORTED, occurred_at=OCCURRED, decided_at=decided
    )
    plain = plan_for(
        pack,
        case_facts(BASE),
        trigger="key_decision",
        reported_at=REPORTED,
        occurred_at=OCCURRED,
        decided_at=decided,
    )  # type: ignore[arg-type]
    assert [p.due_at for p in hate] == [datetime(2026, 11, 30, 15, 0, tzinfo=UTC)]
    assert [p.due_at for p in plain] == [datetime(2026, 12, 4, 15, 0, tzinfo=UTC)]
