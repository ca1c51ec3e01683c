"""The OPCC visits protocol in the pack: its checks, its validators, its cards and buttons."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialogs.engine import step
from dialogs.expect import Accepted, Rejected, validate
from dialogs.loader import bundled_pack_dir, check_pack
from dialogs.notices import notice_replies
from dialogs.schema import Pack
from dialogs.types import ChoicePick, DialogState, Turn
from dialogs.visits import CARDS, VISIT_NOTICES, card_step
from tests.dialogs.test_loader import broken

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("said", "stored"),
    [
        ("2026-12-04", "2026-12-04"),
        ("tomorrow", "2026-11-24"),
        ("today", "2026-11-23"),
        ("4 December", "2026-12-04"),
        ("04/12/2026", "2026-12-04"),
    ],
)
def test_a_proposed_date_is_a_day_ahead(pack: Pack, said: str, stored: str) -> None:
    assert validate("date_ahead", said, pack, NOW) == Accepted(stored)


@pytest.mark.parametrize(
    ("said", "why"),
    [
        ("yesterday", "strings.date_ahead_past"),
        ("2026-11-01", "strings.date_ahead_past"),
        ("2028-01-01", "strings.date_ahead_too_far"),
        ("2026-13-45", "strings.bad_date_ahead"),
        ("when it suits", "strings.bad_date_ahead"),
    ],
)
def test_a_proposed_date_that_is_not_ahead_is_asked_again(pack: Pack, said: str, why: str) -> None:
    assert validate("date_ahead", said, pack, NOW) == Rejected(why)


@pytest.mark.parametrize(
    "said",
    ["Wait until OH-2026-0042 is charged", "oh-2026-7 is still open", "ask pc.amy.hart@example.police.uk"],
)
def test_guidance_with_case_identifiers_is_refused(pack: Pack, said: str) -> None:
    assert validate("guidance_text", said, pack, NOW) == Rejected("strings.visit_guidance_case_detail")


def test_guidance_in_plain_words_is_kept(pack: Pack) -> None:
    said = "  Please wait until after the hearing. "
    assert validate("guidance_text", said, pack, NOW) == Accepted("Please wait until after the hearing.")


def test_every_card_renders_with_its_buttons_starting_the_visit_flow(pack: Pack) -> None:
    payload = {
        "reference": "OV-2026-0001",
        "visitor": "Lee Moss",
        "visitee": "family",
        "investigation": "not_sure",
        "capacity": "pastoral",
        "proposed_on": "2026-12-04",
        "nature": "Pastoral support",
        "guidance": "concerns",
        "guidance_text": "After the hearing",
        "step": "guidance_sought",
        "card": "visit_briefing",
        "owner": "opcc_chief_executive",
        "due": "2026-11-24T09:00:00+00:00",
    }
    for kind in VISIT_NOTICES:
        replies = notice_replies(pack, kind, payload, now=NOW)
        assert replies and all(r.text and "{" not in r.text for r in replies), kind
        for reply in replies:
            assert reply.step in (None, card_step("visit_action", "OV-2026-0001"))
    [briefing] = notice_replies(pack, "visit_briefing", payload, now=NOW)
    facts = {f.label: f.value for f in briefing.facts}
    assert (
        facts["Proposed date"] == "Friday 4 December 2026" and facts["Investigation underway"] == "Not sure"
    )
    assert [c.value for c in briefing.choices] == list(CARDS["visit_briefing"].buttons)
    header, _ = notice_replies(pack, "visit_nudge", payload, now=NOW)
    assert header.key == "strings.visit_nudge"  # due tomorrow, not overdue


def test_a_card_button_starts_the_flow_on_its_request_over_any_conversation(pack: Pack) -> None:
    busy = DialogState(flow="report_assault", step="victim_email", instance="t0")
    pick = ChoicePick(step=card_step("visit_action", "OV-2026-0001"), value="seek_guidance")
    state, replies, effects = step(pack, busy, Turn(id="t1", now=NOW, pick=pick))
    assert state.flow == "visit_action" and state.paused == busy and replies == []
    assert [(e.name, e.args) for e in effects] == [
        ("check_visit_step", {"visit": "OV-2026-0001", "visit_action": "seek_guidance"})
    ]
    stale = ChoicePick(step=card_step("no_such_flow", "OV-2026-0001"), value="seek_guidance")
    _, replies, _ = step(pack, DialogState(), Turn(id="t2", now=NOW, pick=stale))
    assert replies[0].key == "strings.stale_choice"


def test_the_visits_protocol_is_checked(tmp_path: Path) -> None:
    problems = broken(tmp_path, "visits.yaml", "  debrief:\n", "  debriefing:\n")
    messages = [p.message for p in problems]
    assert "missing visit step 'debrief' (the visits protocol runs it)" in messages
    assert any(m.startswith("unknown visit step 'debriefing'") for m in messages)
    problems = broken(tmp_path / "b", "visits.yaml", "flow: visit_action", "flow: visit_request")
    assert [p.message for p in problems] == ["the visit flow must be `given` visit and visit_action"]
    problems = broken(tmp_path / "c", "strings.yaml", "visit_label_plan: Agreed plan\n", "")
    assert [p.message for p in problems] == [
        "missing string 'strings.visit_label_plan' (the visits protocol uses it)"
    ]
    problems = broken(
        tmp_path / "d",
        "visits.yaml",
        "    escalate_to: commissioner\n",
        "",
    )
    assert problems and "escalate_after_hours and escalate_to" in problems[0].message


def test_a_pack_without_visits_yaml_has_no_protocol(tmp_path: Path) -> None:
    folder = tmp_path / "pack"
    shutil.copytree(bundled_pack_dir(), folder)
    (folder / "visits.yaml").unlink()
    _, problems = check_pack(folder)
    assert problems and all("needs the visits protocol (visits.yaml)" in p.message for p in problems)
    for flow in ("visit_request", "visit_action", "my_visits"):
        (folder / "flows" / f"{flow}.yaml").unlink()
    meta = folder / "pack.yaml"
    text = meta.read_text(encoding="utf-8")
    meta.write_text(
        text[: text.index("  # OPCC visits (seed 004).")] + text[text.index("# Hate-crime strand") :]
    )
    pack, problems = check_pack(folder)
    assert problems == [] and pack is not None and pack.visits is None
