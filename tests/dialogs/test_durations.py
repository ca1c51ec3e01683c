"""Durations told to people come from the plan and the pack, never from a string's own words."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialogs.durations import duration_words, pack_duration
from dialogs.loader import bundled_pack_dir, check_pack
from dialogs.notices import notice_replies
from dialogs.render import fill
from dialogs.schema import DueRule, Pack

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
_NUMBER = r"\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fourteen|twenty[- ]eight|thirty"
_WRITTEN_DURATION = re.compile(
    rf"\b({_NUMBER})\s*(working\s+)?(hours?|days?|weeks?|months?|mins?|minutes?)\b|\b(one|five) working\b",
    re.I,
)
#: Strings whose durations are no clock of the plan: an example of what a person may type, and how
#: long the report's questions take.
_EXAMPLES_OF_INPUT = {"help_occurred_at", "report_intro"}


def _with_point(pack: Pack, code: str, **changes: object) -> Pack:
    points = [p.model_copy(update=changes) if p.code == code else p for p in pack.plan.points]
    return pack.model_copy(update={"plan": pack.plan.model_copy(update={"points": points})})


def test_no_string_writes_a_duration_in_its_own_words(pack: Pack) -> None:
    written = {
        key: match.group(0)
        for key, text in pack.strings.items()
        if key not in _EXAMPLES_OF_INPUT and not key.startswith("duration_")
        for match in [_WRITTEN_DURATION.search(text)]
        if match
    }
    assert written == {}


def test_the_slt_notice_tells_the_senior_review_due_rule_of_the_plan(pack: Pack) -> None:
    def told(p: Pack) -> str:
        return notice_replies(p, "slt_new_case", {"reference": "OH-2026-0042"}, now=NOW)[0].text

    assert "14 days" in told(pack)
    changed = _with_point(pack, "senior_review", due=DueRule(days=21))
    assert "21 days" in told(changed) and "14 days" not in told(changed)


def test_key_decision_clocks_follow_the_plan_with_their_enhanced_variant(pack: Pack) -> None:
    assert pack_duration(pack, "due_decision_explained") == "5 working days"
    assert pack_duration(pack, "due_decision_explained_enhanced_rights") == "1 working day"
    text = fill(pack, "strings.help_decision")
    assert "5 working days" in text and "1 working day " in text


def test_the_update_default_is_the_forces_practice_not_a_victims_code_right(pack: Pack) -> None:
    rights = fill(pack, "strings.next_rights")
    bullets = [line for line in rights.splitlines() if line.startswith(("•", " "))]
    assert bullets and not any("28 days" in line for line in bullets)
    default = next(line for line in rights.splitlines() if "28 days" in line)
    assert "force's practice" in rights.split(default)[0] + default
    changed = _with_point(pack, "victim_updated", repeat_every_days=14)
    assert "every 14 days" in fill(changed, "strings.next_rights")


def test_snooze_and_review_window_come_from_the_pack_settings(pack: Pack) -> None:
    assert fill(pack, "strings.point_snoozed").endswith("24 hours.")
    assert "3 months" in fill(pack, "strings.next_review")
    nudges = pack.meta.nudges.model_copy(update={"snooze_hours": 1, "review_window_months": 6})
    changed = pack.model_copy(update={"meta": pack.meta.model_copy(update={"nudges": nudges})})
    assert fill(changed, "strings.choice_nudge_snooze").endswith("1 hour")
    assert "6 months" in fill(changed, "strings.next_review")


@pytest.mark.parametrize(
    ("amount", "unit", "words"),
    [
        (1, "hours", "1 hour"),
        (2, "hours", "2 hours"),
        (1, "working_days", "1 working day"),
        (0, "days", "0 days"),
    ],
)
def test_duration_words_use_the_packs_singular_and_plural(
    pack: Pack, amount: int, unit: str, words: str
) -> None:
    assert duration_words(pack, amount, unit) == words


@pytest.mark.parametrize(
    "name", ["due_nothing", "due_senior_review_enhanced_rights", "every_senior_review", "later"]
)
def test_a_name_that_is_no_clock_has_no_words(pack: Pack, name: str) -> None:
    assert pack_duration(pack, name) is None


def test_the_checker_reports_a_duration_placeholder_that_names_no_clock(tmp_path: Path) -> None:
    folder = tmp_path / "west-midlands"
    shutil.copytree(bundled_pack_dir(), folder)
    strings = folder / "strings.yaml"
    text = strings.read_text(encoding="utf-8")
    strings.write_text(text.replace("{due_senior_review}", "{due_senior_reveiw}", 1), encoding="utf-8")
    messages = [p.message for p in check_pack(folder)[1]]
    assert messages == ["string 'slt_new_case': {due_senior_reveiw} names no clock of the plan"]
