"""What the bot says unprompted, from outbox payloads of ids and times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialogs.notices import (
    NOTICE_KINDS,
    PointOutcome,
    notice_replies,
    nudge_step,
    payload_points,
)
from dialogs.render import point_title
from dialogs.schema import Pack
from dialogs.types import NUDGE_STEP
from dialogs.visits import VISIT_NOTICES  # about visit requests: tests/dialogs/test_visits.py

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
POINT = {
    "point": 7,
    "code": "crime_recorded",
    "instance": 1,
    "due": "2026-11-24T09:00:00+00:00",
    "owner": "supervisor",
    "owner_name": "Sgt Ravi Kaur",
}
WELFARE_1 = {
    **POINT,
    "point": 8,
    "code": "welfare_contact",
    "instance": 2,
    "due": "2026-11-26T09:00:00+00:00",
}
WELFARE_2 = {**POINT, "point": 9, "code": "welfare_contact", "instance": 3}
REMINDER = {"cases": [{"reference": "OH-2026-0042", "points": [POINT, WELFARE_1, WELFARE_2]}]}
PAYLOADS = {
    "nudge": REMINDER,
    "unassigned": {"reference": "OH-2026-0042", **POINT, "code": "vps_offered"},  # queued before grouping
    "escalation": REMINDER,
    "digest": REMINDER,
    "slt_new_case": {"reference": "OH-2026-0042"},
    "victim_io": {
        "reference": "OH-2026-0042",
        "io_name": "Tom Reid",
        "io_email": "sgt.tom.reid@example.police.uk",
    },
    "victim_decision": {"reference": "OH-2026-0042", "decision": "no_further_action"},
    "fim_hospital": {"reference": "OH-2026-0042", "area": "walsall"},
    "association_notice": {
        "reference": "OH-2026-0042",
        "association": "police_federation",
        "victim_name": "Amy Hart",
        "victim_email": "pc.amy.hart@example.police.uk",
        "role": "officer",
        "area": "coventry",
        "occurred": "2026-11-23T22:15:00+00:00",
        "reporter_name": "Sgt Ravi Kaur",
        "reporter_email": "sgt.ravi.kaur@example.police.uk",
    },
    "victim_leaflet": {"reference": "OH-2026-0042", "role": "staff", "hate_strand": "religion"},
    "leaflet_handover": {"reference": "OH-2026-0042"},
}
#: Notices sent before any case exists: a colleague's own disclosure, to their supervisor.
CASELESS = {
    "victim_disclosure": {
        "victim_email": "pc.amy.hart@example.police.uk",
        "victim_name": "PC Amy Hart",
        "disclosure": 3,
    },
}


#: Kinds about no one case: the SPOC's weekly summary of figures.
NOT_ABOUT_A_CASE = {"report_summary"}


@pytest.mark.parametrize(
    "kind", sorted(set(NOTICE_KINDS) - NOT_ABOUT_A_CASE - set(VISIT_NOTICES) - set(CASELESS))
)
def test_every_kind_renders_with_the_case_reference(pack: Pack, kind: str) -> None:
    replies = notice_replies(pack, kind, PAYLOADS[kind], now=NOW)
    text = " ".join(r.text + " " + " ".join(f.label + f.value for f in r.facts) for r in replies)
    assert "OH-2026-0042" in text


def test_a_reminder_lists_each_point_with_buttons_that_name_it(pack: Pack) -> None:
    header, crime, welfare_1, welfare_2 = notice_replies(pack, "nudge", REMINDER, now=NOW, nudge_id=31)
    assert header.key == "strings.nudge" and "OH-2026-0042" in header.text and not header.choices
    assert [r.key for r in (crime, welfare_1, welfare_2)] == ["strings.nudge_point"] * 3
    assert [c.value for c in crime.choices] == ["done", "not_applicable", "snooze"]
    title = point_title(pack, "crime_recorded")
    assert [c.label for c in crime.choices] == [
        f"Done: {title} (OH-2026-0042)",
        f"Not applicable: {title} (OH-2026-0042)",
        f"Remind me later: {title} (OH-2026-0042)",
    ]
    assert crime.step == nudge_step("OH-2026-0042", 7, 31) == f"{NUDGE_STEP}/OH-2026-0042/7/31"
    # Follow-ups keep their number, so no two lines or buttons read the same.
    assert "(follow-up 1)" in welfare_1.text and "(follow-up 2)" in welfare_2.text
    labels = [c.label for r in (crime, welfare_1, welfare_2) for c in r.choices]
    assert len(set(labels)) == len(labels)


def test_overdue_or_due_is_decided_when_the_reminder_is_rendered(pack: Pack) -> None:
    early = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    _, crime, welfare, _ = notice_replies(pack, "nudge", REMINDER, now=early)
    assert "Due Tue 24 Nov 2026, 09:00" in crime.text and "Overdue" not in crime.text
    _, crime, welfare, _ = notice_replies(pack, "nudge", REMINDER, now=NOW)
    assert "Overdue since Tue 24 Nov 2026, 09:00" in crime.text
    assert "Due Thu 26 Nov 2026, 09:00" in welfare.text


def test_an_answered_point_shows_who_did_what_and_loses_its_buttons(pack: Pack) -> None:
    outcomes = {
        7: PointOutcome("done", "Sgt Ravi Kaur", NOW),
        8: PointOutcome("snoozed", "Sgt Ravi Kaur", NOW),
        9: PointOutcome("not_applicable", None, NOW),
    }
    _, crime, welfare_1, welfare_2 = notice_replies(pack, "nudge", REMINDER, now=NOW, outcomes=outcomes)
    assert [r.key for r in (crime, welfare_1, welfare_2)] == [
        "strings.nudge_answered_done",
        "strings.nudge_answered_snoozed",
        "strings.nudge_answered_not_applicable",
    ]
    assert not any(r.choices for r in (crime, welfare_1, welfare_2))
    assert "Sgt Ravi Kaur" in crime.text and "the bot" in welfare_2.text
    _, still_open, _, _ = notice_replies(pack, "nudge", REMINDER, now=NOW, outcomes={7: outcomes[7]})
    assert [
        r.choices != () for r in notice_replies(pack, "nudge", REMINDER, now=NOW, outcomes={7: outcomes[7]})
    ] == [
        False,
        False,
        True,
        True,
    ]
    assert still_open.key == "strings.nudge_answered_done"


def test_an_io_point_with_no_io_asks_the_supervisor_to_assign_one(pack: Pack) -> None:
    payload = {
        "cases": [
            {"reference": "OH-2026-0042", "points": [{**POINT, "code": "vps_offered", "unassigned": True}]}
        ]
    }
    _, vps = notice_replies(pack, "nudge", payload, now=NOW)
    assert vps.key == "strings.nudge_unassigned" and not vps.choices


def test_escalations_and_digests_list_points_by_case(pack: Pack) -> None:
    other = {"reference": "OH-2026-0043", "points": [{**POINT, "point": 10}]}
    payload = {"cases": [*REMINDER["cases"], other]}
    [escalation] = notice_replies(pack, "escalation", payload, now=NOW)
    assert [f.label for f in escalation.facts] == ["OH-2026-0042", "OH-2026-0043"]
    assert len(escalation.facts[0].value.splitlines()) == 3 and "Sgt Ravi Kaur" in escalation.facts[0].value
    [digest] = notice_replies(pack, "digest", payload, now=NOW)
    assert digest.facts[0].value.splitlines()[2] == (
        "Victim seen by their supervisor about their wellbeing (follow-up 2), due Tue 24 Nov 2026, 09:00"
    )


def test_the_victim_is_not_told_the_decision_unless_the_pack_allows(pack: Pack) -> None:
    [quiet] = notice_replies(pack, "victim_decision", PAYLOADS["victim_decision"], now=NOW)
    assert "No further action" not in quiet.text
    settings = pack.meta.nudges.model_copy(update={"decision_detail_to_victim": True})
    open_pack = pack.model_copy(update={"meta": pack.meta.model_copy(update={"nudges": settings})})
    [told] = notice_replies(open_pack, "victim_decision", PAYLOADS["victim_decision"], now=NOW)
    assert "No further action" in told.text and told.key == "strings.victim_decision_named"


def test_rows_queued_before_grouping_still_render(pack: Pack) -> None:
    legacy = {"reference": "OH-2026-0042", **POINT}
    header, crime = notice_replies(pack, "nudge", legacy, now=NOW, nudge_id=5)
    assert header.key == "strings.nudge" and crime.step == nudge_step("OH-2026-0042", 7, 5)
    _, vps = notice_replies(pack, "unassigned", {**legacy, "code": "vps_offered"}, now=NOW)
    assert vps.key == "strings.nudge_unassigned" and not vps.choices
    [digest] = notice_replies(pack, "digest", {"points": [{**POINT, "reference": "OH-2026-0042"}]}, now=NOW)
    assert [f.label for f in digest.facts] == ["OH-2026-0042"]
    assert payload_points(legacy) == [7]


def test_the_weekly_summary_shows_its_figures_and_its_chart(pack: Pack) -> None:
    payload = {
        "covering": "Cases that happened from 16 Nov 2026 to 22 Nov 2026, across the force.",
        "headline": [{"label": "Cases", "value": "3"}, {"label": "Hate crimes", "value": "1"}],
        "months": ["2026-10", "2026-11"],
        "counts": [4, 3],
        "trend": [4.0, 3.0],
    }
    [reply] = notice_replies(pack, "report_summary", payload, now=NOW)
    assert reply.key == "strings.report_chat_weekly" and "16 Nov 2026" in reply.text
    assert [(f.label, f.value) for f in reply.facts] == [("Cases", "3"), ("Hate crimes", "1")]
    assert reply.chart is not None and reply.chart.labels == ("2026-10", "2026-11")
    assert reply.chart.values == (4.0, 3.0) and reply.chart.trend == (4.0, 3.0)
