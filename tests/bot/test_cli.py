"""The `hampshire` command line: pack, directory and database commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from dialogs.loader import bundled_pack_dir
from dialogs.schema import Pack


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HAMPSHIRE_DATABASE_URL", url)
    return url


def test_pack_check_passes_on_the_bundled_pack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pack", "check"]) == 0
    assert "no problems" in capsys.readouterr().out


def test_pack_check_fails_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "pack"
    folder.mkdir()
    for name in ("pack", "strings", "plan", "directory"):
        (folder / f"{name}.yaml").write_text((bundled_pack_dir() / f"{name}.yaml").read_text())
    (folder / "flows").mkdir()
    (folder / "flows" / "x.yaml").write_text(
        "id: report_assault\ntitle: strings.menu\nsteps:\n  - id: a\n    say: strings.nope\n"
    )
    assert main(["pack", "check", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "pack/flows/x.yaml:5: unknown string key 'strings.nope'" in out


def test_pack_check_draws_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pack", "check", "--mermaid"]) == 0
    assert capsys.readouterr().out.count("flowchart TD") == 6


def test_pack_schema_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pack", "schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "Pack"


def test_db_upgrade(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_directory_search_and_check(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["directory", "search", "fed"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("West Midlands Police Federation")
    assert main(["directory", "check"]) == 0
    out = capsys.readouterr().out
    for key in ("enable_network", "sikh_association", "victim_support", "chaplaincy"):
        assert f"{key}:" in out
    assert "4 of 17 entries have unverified contacts" in out


def test_directory_import_and_export_round_trip(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "more.yaml"
    new.write_text(
        yaml.safe_dump(
            {
                "entries": [
                    {
                        "key": "peer_support",
                        "name": "Peer support network",
                        "category": "wellbeing",
                        "description": "Trained colleagues who have been through it.",
                        "email": "peers @example.police.uk",
                        "phone": "0121 496 0000",
                        "for_whom": "Everyone",
                        "synonyms": ["peer"],
                        "source": "Force intranet",
                    }
                ]
            }
        )
    )
    assert main(["directory", "import", str(new)]) == 0
    assert "imported 1 entries" in capsys.readouterr().out
    assert main(["directory", "export"]) == 0
    exported = yaml.safe_load(capsys.readouterr().out)["entries"]
    peer = next(e for e in exported if e["key"] == "peer_support")
    assert peer["email"] == "peers @example.police.uk" and "email" in peer["flags"]
    assert main(["directory", "search", "peer"]) == 0
    assert "NOT VERIFIED" in capsys.readouterr().out


def test_directory_import_rejects_bad_entries(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            [
                {
                    "key": "x",
                    "name": "X",
                    "category": "nowhere",
                    "description": "d",
                    "for_whom": "all",
                    "source": "s",
                },
                {"name": "no key"},
            ]
        )
    )
    assert main(["directory", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "unknown category 'nowhere'" in err and "entry 1: key" in err


def test_nudge_run_once_at_a_given_time(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nudge", "run-once", "--now", "2026-11-24T09:00:00+00:00"]) == 0
    assert "sweep: 0 points due" in capsys.readouterr().out
    assert main(["nudge", "run-once", "--now", "tomorrow"]) == 2
    assert main(["nudge", "run-once", "--now", "2026-11-24T09:00:00"]) == 2
    assert "time zone" in capsys.readouterr().err


def test_people_roles(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["people", "add", "supt.lou.grant@example.police.uk", "--role", "slt", "--area", "coventry"])
        == 0
    )
    assert main(["people", "add", "insp.op.lead@example.police.uk", "--role", "spoc"]) == 0
    assert main(["people", "add", "someone@gmail.com", "--role", "slt"]) == 2
    capsys.readouterr()
    assert main(["people", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "slt: supt.lou.grant@example.police.uk (coventry)",
        "spoc: insp.op.lead@example.police.uk (force-wide)",
    ]


SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the seed documents are not at {SEEDS}")
def test_pack_check_with_the_seeds_checks_the_citations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pack", "check", "--seeds", str(SEEDS)]) == 0
    assert "no problems" in capsys.readouterr().out
    assert main(["pack", "check", "--seeds", str(SEEDS.parent / "nowhere")]) == 1


def test_pack_explain_prints_every_point_with_citation_owner_due_and_default(
    pack: Pack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "explain"]) == 0
    out = capsys.readouterr().out
    blocks = out.split("\n\n")[2:]
    assert [block.splitlines()[0].rsplit("[", 1)[1].rstrip("]") for block in blocks] == [
        p.code for p in pack.plan.points
    ]
    for point, block in zip(pack.plan.points, blocks, strict=True):
        assert block.count("   Cites: seed ") == len(point.cite) > 0
        assert all(citation.quote in block for citation in point.cite)
        assert f"   Owner: {point.owner} (" in block
        assert "   Falls due: " in block and "   Applies to: " in block and "   Reminders: " in block
        assert ("Rule: DEFAULT of the pack: " in block) == (point.default_note is not None)
    senior = blocks[[p.code for p in pack.plan.points].index("senior_review")]
    assert "Falls due: 14 days after the report" in senior


def test_pack_explain_follows_the_pack_it_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pack"
    shutil.copytree(bundled_pack_dir(), folder)
    plan = folder / "plan.yaml"
    plan.write_text(plan.read_text().replace("    due: {days: 14}\n", "    due: {days: 21}\n", 1))
    assert main(["pack", "explain", str(folder), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# West Midlands Police: the plan")
    assert "## Case reviewed by local senior managers (`senior_review`)" in out
    assert "- **Falls due:** 21 days after the report" in out


def test_pack_explain_refuses_a_broken_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pack", "explain", str(tmp_path)]) == 2
    shown = capsys.readouterr()
    assert shown.out == ""
    assert "missing: a pack needs plan.yaml" in shown.err


def test_an_unusable_setting_is_one_line_naming_the_variable(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HAMPSHIRE_ALLOW_UNAUTHENTICATED", "perhaps")
    assert main(["directory", "search", "fed"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "HAMPSHIRE_ALLOW_UNAUTHENTICATED" in err and "perhaps" not in err
