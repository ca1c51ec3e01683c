"""What the bot says unprompted, from outbox payloads of ids and times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialogs.notices import NOTICE_KINDS, notice_replies, nudge_step
from dialogs.schema import Pack
from dialogs.types import NUDGE_STEP

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
POINT = {
    "reference": "OH-2026-0042",
    "point": 7,
    "code": "crime_recorded",
    "instance": 1,
    "due": "2026-11-24T09:00:00+00:00",
    "owner": "supervisor",
    "owner_name": "sgt.ravi.kaur@example.police.uk",
}
PAYLOADS = {
    "nudge": POINT,
    "unassigned": {**POINT, "code": "vps_offered", "owner": "io"},
    "escalation": POINT,
    "digest": {
        "points": [
            {"reference": "OH-2026-0042", "code": "welfare_contact", "instance": 2, "due": POINT["due"]}
        ]
    },
    "slt_new_case": {"reference": "OH-2026-0042"},
    "victim_io": {
        "reference": "OH-2026-0042",
        "io_name": "Tom Reid",
        "io_email": "sgt.tom.reid@example.police.uk",
    },
    "victim_decision": {"reference": "OH-2026-0042", "decision": "no_further_action"},
}


@pytest.mark.parametrize("kind", sorted(NOTICE_KINDS))
def test_every_kind_renders_with_the_case_reference(pack: Pack, kind: str) -> None:
    replies = notice_replies(pack, kind, PAYLOADS[kind], now=NOW)
    text = " ".join(r.text + " " + " ".join(f.label + f.value for f in r.facts) for r in replies)
    assert "OH-2026-0042" in text


def test_a_nudge_names_the_point_says_it_is_overdue_and_carries_buttons(pack: Pack) -> None:
    [reply] = notice_replies(pack, "nudge", POINT, now=NOW)
    assert "recorded" in reply.text and "Overdue since Tue 24 Nov 2026, 09:00" in reply.text
    assert [c.value for c in reply.choices] == ["done", "not_applicable", "snooze"]
    assert reply.step == nudge_step("OH-2026-0042", 7) == f"{NUDGE_STEP}/OH-2026-0042/7"


def test_the_digest_lists_points_by_case(pack: Pack) -> None:
    [reply] = notice_replies(pack, "digest", PAYLOADS["digest"], now=NOW)
    assert [(f.label, f.value) for f in reply.facts] == [
        (
            "OH-2026-0042",
            "Victim seen by their supervisor about their wellbeing (follow-up 1), due Tue 24 Nov 2026, 09:00",
        )
    ]


def test_the_victim_is_not_told_the_decision_unless_the_pack_allows(pack: Pack) -> None:
    [quiet] = notice_replies(pack, "victim_decision", PAYLOADS["victim_decision"], now=NOW)
    assert "No further action" not in quiet.text
    settings = pack.meta.nudges.model_copy(update={"decision_detail_to_victim": True})
    open_pack = pack.model_copy(update={"meta": pack.meta.model_copy(update={"nudges": settings})})
    [told] = notice_replies(open_pack, "victim_decision", PAYLOADS["victim_decision"], now=NOW)
    assert "No further action" in told.text and told.key == "strings.victim_decision_named"
