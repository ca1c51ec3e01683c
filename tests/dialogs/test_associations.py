"""Point 9 as pack data: the association of each role, whom the bot tells, the notice, the guidance,
and the checks `hampshire pack check` makes of pack.yaml's `associations`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dialogs.associations import NONE, association_of, contacts_of, guidance, notice_replies, role_outcome
from dialogs.loader import bundled_pack_dir, check_pack
from dialogs.schema import Pack
from tests.dialogs.test_loader import SEEDS, broken, needs_seeds

NOTICE = {
    "reference": "OH-2026-0042",
    "association": "unison",
    "victim_name": "Ann Clerk",
    "victim_email": "ann.clerk@example.police.uk",
    "role": "staff",
    "area": "walsall",
    "occurred": "2026-11-23T22:15:00+00:00",
    "reporter_name": "Sgt Ravi Kaur",
    "reporter_email": "sgt.ravi.kaur@example.police.uk",
}


@pytest.mark.parametrize(
    ("role", "outcome", "answer", "association"),
    [
        ("officer", "one", None, "police_federation"),
        ("officer", "one", "unite", "police_federation"),  # an answer left from another role
        ("staff", "ask", "unite", "unite"),
        ("staff", "ask", "none", NONE),
        ("staff", "ask", None, None),  # not asked (the role changed at the summary): not known
        ("staff", "ask", "police_federation", None),
        ("special_constable", "ask", "police_federation", "police_federation"),
        ("volunteer", "none", None, NONE),
    ],
)
def test_the_association_follows_from_the_role_and_the_answer(
    pack: Pack, role: str, outcome: str, answer: str | None, association: str | None
) -> None:
    assert role_outcome(pack, role) == outcome
    assert association_of(pack, role, answer) == association


def test_every_role_of_the_report_has_an_association_rule(pack: Pack) -> None:
    flow = pack.flow("report_assault")
    assert flow is not None
    roles = next(s for s in flow.steps if s.id == "victim_role").choices  # type: ignore[union-attr]
    assert pack.meta.associations is not None
    assert {c.value for c in roles} == set(pack.meta.associations.by_role)


def test_contacts_come_from_the_pack_and_the_unflagged_directory_email(pack: Pack) -> None:
    assert contacts_of(pack, "police_federation").emails == ("westmidlandspf@polfed.org",)
    assert contacts_of(pack, "unison").emails == ("unison@west-midlands.pnn.police.uk",)
    assert not contacts_of(pack, "unite")  # the leaflet prints no email for Unite
    assert not contacts_of(pack, "no_such_association")


def test_the_notice_says_who_where_and_when_never_what_happened(pack: Pack) -> None:
    [reply] = notice_replies(pack, NOTICE)
    assert reply.key == "strings.association_notice"
    for shown in ("OH-2026-0042", "Ann Clerk", "ann.clerk@example.police.uk", "Police staff", "Walsall"):
        assert shown in reply.text
    assert "Mon 23 Nov 2026" in reply.text and "UNISON" in reply.text and "Sgt Ravi Kaur" in reply.text


@pytest.mark.parametrize(
    ("about", "key", "contacts"),
    [
        (
            {"victim_role": "staff", "association": None},
            "strings.association_not_chosen",
            ["UNISON", "Unite"],
        ),
        (
            {"victim_role": "officer", "association": "police_federation", "consent_association": False},
            "strings.association_no_consent",
            ["West Midlands Police Federation"],
        ),
        (
            {"victim_role": "staff", "association": "unite", "consent_association": True},
            "strings.association_no_contact",
            ["Unite"],
        ),
        (
            {"victim_role": "staff", "association": "unison", "consent_association": True},
            "strings.association_not_delivered",
            ["UNISON"],
        ),
    ],
)
def test_the_reminder_says_why_the_point_is_open_and_shows_the_contacts(
    pack: Pack, about: dict[str, object], key: str, contacts: list[str]
) -> None:
    [reply] = guidance(pack, about)
    assert reply.key == key
    assert [f.label for f in reply.facts] == contacts


def test_a_pack_without_associations_says_nothing_more(pack: Pack) -> None:
    bare = pack.model_copy(update={"meta": pack.meta.model_copy(update={"associations": None})})
    assert role_outcome(bare, "officer") == "none" and guidance(bare, {"victim_role": "officer"}) == []


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    volunteer:\n      bodies: []", "    pcso:\n      bodies: []", "unknown victim role 'pcso'"),
        ("      bodies: [unison, unite]", "      bodies: [unison, gmb]", "unknown association 'gmb'"),
        ("      directory: unite", "      directory: unite_union", "unknown directory entry 'unite_union'"),
        (
            "      directory: unite\n",
            "      directory: unite\n      emails: [not an address]\n",
            "not an email",
        ),
        (
            "      directory: unite\n",
            "      directory: unite\n      people: [rep@gmail.com]\n",
            "not a work email",
        ),
        (
            "    text: strings.association_notice",
            "    text: strings.association_notise",
            "unknown string key",
        ),
    ],
)
def test_pack_check_reports_a_broken_association_rule(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    problems = broken(tmp_path, "pack.yaml", old, new)
    assert any(message in p.message and p.file.endswith("pack.yaml") for p in problems), problems


def test_a_rule_without_a_citation_or_a_default_note_is_refused(tmp_path: Path) -> None:
    old = """      default_note: >-
        The seeds name no association for volunteers, so point 9 does not apply to them.
"""
    problems = broken(tmp_path, "pack.yaml", old, "")
    assert any("give `cite`" in p.message for p in problems), problems


def edited_pack(tmp_path: Path, old: str, new: str, file: str = "pack.yaml") -> Path:
    """A copy of the bundled pack with `old` replaced by `new` in `file`."""
    folder = tmp_path / "west-midlands"
    shutil.copytree(bundled_pack_dir(), folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@needs_seeds
def test_a_wrong_quote_in_the_association_rules_is_reported(tmp_path: Path) -> None:
    old = 'quote: "The supervisor must notify the Police Federation"}'
    folder = edited_pack(tmp_path, old, 'quote: "The supervisor may notify the Police Federation"}')
    _, problems = check_pack(folder, seeds=SEEDS)
    wrong = [p for p in problems if "may notify" in p.message]
    assert len(wrong) == 1 and "associations.by_role.officer" in wrong[0].message
    assert wrong[0].file.endswith("pack.yaml") and "does not say" in wrong[0].message
