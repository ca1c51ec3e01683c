"""The pack checker: the bundled pack is valid; broken packs report every problem with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dialogs.effects import EFFECTS
from dialogs.loader import PackError, Problem, bundled_pack_dir, check_pack, load_pack, seed_text
from dialogs.schema import Pack


def broken(tmp_path: Path, file: str, old: str, new: str) -> list[Problem]:
    """Copy the bundled pack, replace `old` by `new` in `file`, and check it."""
    folder = tmp_path / "west-midlands"
    shutil.copytree(bundled_pack_dir(), folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    _, problems = check_pack(folder)
    return problems


def line_of(file: Path, needle: str) -> int:
    return next(i for i, line in enumerate(file.read_text().splitlines(), start=1) if needle in line)


def test_the_bundled_pack_is_valid() -> None:
    pack, problems = check_pack()
    assert problems == []
    assert pack is not None and pack.meta.id == "west_midlands"


def test_the_bundled_pack_has_what_design_section_2_lists(pack: Pack) -> None:
    codes = {p.code for p in pack.plan.points}
    assert {
        "crime_recorded",
        "investigator_assigned",
        "statement_taken",
        "victim_updated",
        "outcome_views_sought",
        "vps_offered",
        "impact_statement_requested",
        "esafety_report",
        "welfare_contact",
        "slt_informed",
        "chief_officer_notified_via_fim",
        "raised_at_trm",
        "staff_association_notified",
        "leaflet_given",
        "hospital_payment_claimed",
        "vrr_explained",
        "senior_review",
    } <= codes
    assert {f.id for f in pack.flows} == {
        "report_assault",
        "what_happens_next",
        "directory_search",
        "my_cases",
        "update_case",
        "nudge_response",
        "report_figures",
        "visit_request",
        "visit_action",
        "my_visits",
        "victim_disclosure",
    }


def test_an_unknown_step_is_reported_with_its_line(tmp_path: Path) -> None:
    problems = broken(tmp_path, "flows/my_cases.yaml", "    next: load\n", "    next: lode\n")
    flow_file = tmp_path / "west-midlands" / "flows" / "my_cases.yaml"
    assert (
        Problem(
            "west-midlands/flows/my_cases.yaml",
            line_of(flow_file, "next: lode"),
            "my_cases.not_found: unknown step 'lode'",
        )
        in problems
    )


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("flows/my_cases.yaml", "effect: show_case", "effect: show_kase", "unknown effect 'show_kase'"),
        ("flows/my_cases.yaml", "on: {ok: case_actions,", "on: {fine: case_actions,", "branch on 'fine'"),
        ("flows/directory_search.yaml", "action: next_page", "action: nxt", "unknown action 'nxt'"),
        ("flows/report_assault.yaml", "expect: when_past", "expect: when", "unknown validator 'when'"),
        ("flows/report_assault.yaml", "    yes: confirm", "    yes: confrim", "yes picks 'confrim'"),
        (
            "flows/report_assault.yaml",
            "{slot: victim_email, say:",
            "{slot: victim, say:",
            "exclude names 'victim', which no step asks for",
        ),
        (
            "flows/report_assault.yaml",
            "say: strings.colleague_is_victim",
            "say: strings.colleague_victim",
            "unknown string key",
        ),
        ("flows/report_assault.yaml", "show: case_opened", "show: opened", "unknown renderer 'opened'"),
        ("flows/my_cases.yaml", "choices_from: my_cases", "choices_from: cases", "unknown choice provider"),
        (
            "flows/my_cases.yaml",
            "  - id: marked_na\n",
            "  - id: marked_done\n",
            "duplicate step id 'marked_done'",
        ),
        (
            "plan.yaml",
            "  - code: leaflet_given",
            "  - code: slt_informed",
            "duplicate point code 'slt_informed'",
        ),
        ("strings.yaml", "pick_one:", "cancelled:", "duplicate key 'cancelled'"),
        (
            "flows/report_assault.yaml",
            "say: strings.report_intro",
            "say: strings.intro",
            "unknown string key",
        ),
        ("strings.yaml", "stale_choice:", "stale_choices:", "missing string 'strings.stale_choice'"),
        (
            "flows/report_assault.yaml",
            "on: {hate_crime: hate_strand}",
            "next: hate_strand",
            "report_assault.hate_motivated: unreachable: no step leads here",
        ),
        (
            "flows/what_happens_next.yaml",
            "    next: topics\n",
            "    next: t_investigation\n",
            "loops without asking anything",
        ),
        (
            "plan.yaml",
            "when: {hospitalised: true}",
            "when: {in_hospital: true}",
            "unknown fact 'in_hospital'",
        ),
        ("plan.yaml", "next_meeting: trm", "next_meeting: dmm", "unknown meeting 'dmm'"),
        ("pack.yaml", "\nlocale: en_GB", "\nlocale: xx_ZZ", "unknown locale"),
        (
            "pack.yaml",
            "  - update_case\ndirectory_flow",
            "  - update_kase\ndirectory_flow",
            "unknown flow 'update_kase'",
        ),
        ("pack.yaml", "  race: [bapa]", "  race: [bapa2]", "unknown directory entry 'bapa2'"),
    ],
)
def test_each_kind_of_problem_is_reported_in_its_file(
    tmp_path: Path, file: str, old: str, new: str, message: str
) -> None:
    problems = broken(tmp_path, file, old, new)
    assert any(message in p.message and p.file.endswith(file) for p in problems), problems


def test_shape_errors_point_at_the_line(tmp_path: Path) -> None:
    problems = broken(tmp_path, "plan.yaml", "    due: {hours: 24}\n", "    due: {hours: 24, days: 1}\n")
    plan = tmp_path / "west-midlands" / "plan.yaml"
    assert any(
        p.file.endswith("plan.yaml") and p.line == line_of(plan, "days: 1") and "exactly one" in p.message
        for p in problems
    )


def test_invalid_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    problems = broken(tmp_path, "pack.yaml", "timezone: Europe/London", "timezone: [Europe/London")
    assert len(problems) == 1 and "not valid YAML" in problems[0].message and problems[0].line > 1


def test_yes_and_no_stay_words_not_booleans(tmp_path: Path) -> None:
    problems = broken(
        tmp_path,
        "flows/report_assault.yaml",
        'on: {"yes": signpost, "no": next_steps}',
        "on: {yes: signpost, no: next_steps}",
    )
    assert problems == []


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "west-midlands"
    shutil.copytree(bundled_pack_dir(), folder)
    flow = folder / "flows" / "my_cases.yaml"
    flow.write_text(
        flow.read_text().replace("next: load", "next: lode").replace("effect: show_case", "effect: x")
    )
    _, problems = check_pack(folder)
    assert len(problems) >= 2


def test_load_pack_raises_with_the_problems(tmp_path: Path) -> None:
    with pytest.raises(PackError) as caught:
        load_pack(tmp_path)
    assert caught.value.problems


def test_every_declared_effect_is_used_by_some_flow(pack: Pack) -> None:
    used = {getattr(s, "effect", None) for f in pack.flows for s in f.steps}
    assert set(EFFECTS) <= used


# --- citations -------------------------------------------------------------------------------------

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the seed documents are not at {SEEDS}")


@needs_seeds
def test_every_citation_of_the_bundled_pack_quotes_its_seed() -> None:
    pack, problems = check_pack(seeds=SEEDS)
    assert problems == []
    assert pack is not None and all(point.cite for point in pack.plan.points)


@needs_seeds
def test_point_1_of_the_plan_is_the_same_care_not_crime_recording() -> None:
    assert "same care, compassion and commitment" in (seed_text(SEEDS, "000", 1) or "")
    assert "record" not in (seed_text(SEEDS, "000", 1) or "")
    pack = load_pack(seeds=SEEDS)
    recorded = next(p for p in pack.plan.points if p.code == "crime_recorded")
    assert all(c.seed != "000" for c in recorded.cite)


def _with_citation(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "west-midlands"
    shutil.copytree(bundled_pack_dir(), folder)
    plan = folder / "plan.yaml"
    text = plan.read_text(encoding="utf-8")
    assert old in text
    plan.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@needs_seeds
@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'quote: "Someone should record it for you."',
            'quote: "Someone should record it for them."',
            "crime_recorded: seed 002 does not say 'Someone should record it for them.'",
        ),
        (
            '{seed: "000", point: 2, quote: "The injured',
            '{seed: "000", point: 1, quote: "The injured',
            "is in seed 000 but not in its point 1",
        ),
        ('{seed: "000", point: 2, quote: "The injured', '{seed: "009", quote: "The injured', "no seed '009'"),
        (
            '{seed: "000", point: 2, quote: "The injured',
            '{seed: "000", point: 11, quote: "The injured',
            "no point 11",
        ),
    ],
)
def test_a_wrong_citation_is_reported_at_its_line_only_when_the_seeds_are_given(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    folder = _with_citation(tmp_path, old, new)
    assert check_pack(folder)[1] == []  # a force's pack ships without the seeds
    problems = check_pack(folder, seeds=SEEDS)[1]
    assert [p.message for p in problems if message in p.message] != []
    assert len(problems) == 1
    assert problems[0].line == line_of(folder / "plan.yaml", new.split(",")[0])


def test_a_missing_seeds_folder_is_a_problem(tmp_path: Path) -> None:
    problems = check_pack(seeds=tmp_path / "nowhere")[1]
    assert [p.message for p in problems] == ["the seeds folder does not exist"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    owner: slt\n", "    owner: chief\n", "unknown owner role 'chief'"),
        ("{event: investigator_assigned}", "{event: io_named}", "unknown event 'io_named'"),
        ("{delivered: slt_new_case,", "{delivered: slt_memo,", "unknown notice 'slt_memo'"),
        ("to: area_leaders}", "to: chief}", "completed_by.to"),
        (
            "{delivered: slt_new_case,",
            "{delivered: slt_new_case, event: x,",
            "exactly one of event, delivered",
        ),
        ("  io: {held_by: investigator,", "  io: {held_by: deputy,", "held_by"),
    ],
)
def test_owner_roles_and_completing_evidence_are_checked(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    problems = broken(tmp_path, "plan.yaml", old, new)
    assert any(message in p.message and p.file.endswith("plan.yaml") for p in problems), problems


def test_each_owner_role_needs_its_name(tmp_path: Path) -> None:
    problems = broken(tmp_path, "strings.yaml", "owner_slt:", "owner_leaders:")
    assert any("missing string 'strings.owner_slt'" in p.message for p in problems), problems


def test_evidence_a_point_names_needs_its_string(tmp_path: Path) -> None:
    problems = broken(tmp_path, "strings.yaml", "evidence_slt_new_case:", "evidence_slt_case:")
    assert any("missing string 'strings.evidence_slt_new_case'" in p.message for p in problems), problems


def test_a_notice_that_does_not_name_the_decision_cannot_complete_a_point(tmp_path: Path) -> None:
    problems = broken(
        tmp_path, "plan.yaml", "    # Not completed by the bot's notice",
        "    completed_by: {delivered: victim_decision, to: victim}\n    #",
    )  # fmt: skip
    assert [p.message for p in problems if "does not name the decision" in p.message] != []


def test_an_app_command_must_start_a_flow_of_the_pack(tmp_path: Path) -> None:
    problems = broken(tmp_path, "pack.yaml", "  cases: my_cases\n", "  cases: my_kases\n")
    assert [p.message for p in problems] == ["command 'cases' starts unknown flow 'my_kases'"]


@pytest.mark.parametrize(
    ("addition", "says"),
    [
        (
            "laughs: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
            + "".join(f"l{i}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)),
            "more than 100 uses of aliases",
        ),
        ("deep: " + "[" * 40 + "]" * 40 + "\n", "nested more than 32 levels deep"),
        ("? [a, b]\n: 1\n", "a key must be a word or a number, not a list"),
        ("padding: " + "x" * 1_000_001 + "\n", "larger than 1,000,000 bytes"),
    ],
    ids=["billion laughs", "deep nesting", "list key", "too big"],
)
def test_a_file_over_the_limits_is_one_unreadable_problem_with_its_line(
    tmp_path: Path, addition: str, says: str
) -> None:
    folder = tmp_path / "west-midlands"
    shutil.copytree(bundled_pack_dir(), folder)
    strings = folder / "strings.yaml"
    lines = strings.read_text(encoding="utf-8").count("\n")
    strings.write_text(strings.read_text(encoding="utf-8") + addition, encoding="utf-8")
    pack, problems = check_pack(folder)
    assert pack is None
    assert len(problems) == 1 and problems[0].unreadable, problems
    problem = problems[0]
    assert problem.file == "west-midlands/strings.yaml" and says in problem.message
    if says.startswith("larger"):
        assert problem.line == 1
    else:
        assert problem.line > lines
