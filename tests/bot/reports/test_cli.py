"""`hampshire report …` and `hampshire demo seed` from the command line."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HAMPSHIRE_DATABASE_URL", url)
    return url


def test_seed_then_every_report_in_every_format(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "seed", "--cases", "12", "--since", "2025-01-01"]) == 0
    assert "seeded 12 invented cases" in capsys.readouterr().out
    out = tmp_path / "out"
    for kind in ("patterns", "compliance"):
        for fmt in ("html", "csv", "json"):
            assert main(["report", kind, "--format", fmt, "--out", str(out), "--from", "2025-01-01"]) == 0
    assert (out / "patterns.html").exists() and (out / "compliance-by_point.png").exists()
    document = json.loads((out / "patterns.json").read_text(encoding="utf-8"))
    assert sum(row["cases"] for row in document["tables"]["by_kind"]["rows"]) == 12
    assert main(["report", "patterns", "--area", "coventry", "--audience", "panel", "--format", "json",
                 "--out", str(out / "panel")]) == 0  # fmt: skip
    assert json.loads((out / "panel" / "patterns.json").read_text(encoding="utf-8"))["audience"] == "panel"
    capsys.readouterr()
    assert main(["report", "case", "OH-2025-0001", "--out", str(out)]) == 0
    assert (out / "case.html").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "patterns", "--from", "31/01/2026"], "--from must be a date"),
        (
            ["report", "patterns", "--from", "2026-02-01", "--to", "2026-01-01"],
            "--from must not be after --to",
        ),
        (["report", "compliance", "--area", "atlantis"], "is not one of the pack's areas"),
        (["demo", "seed", "--cases", "0"], "--cases must be at least 1"),
        (["demo", "seed", "--since", "2999-01-01"], "--since must be in the past"),
    ],
)
def test_bad_options_are_refused_in_one_line(
    database: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_an_unknown_case_is_said_so(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "case", "OH-2026-9999", "--out", str(tmp_path)]) == 1
    assert "no case 'OH-2026-9999'" in capsys.readouterr().err


def test_the_demo_will_not_join_real_cases(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from store.db import make_engine
    from store.models import Case

    assert main(["demo", "seed", "--cases", "2"]) == 0
    engine = make_engine(database)
    with Session(engine) as session, session.begin():
        session.execute(update(Case).where(Case.id == 1).values(submission_key="slack:real"))
    engine.dispose()
    capsys.readouterr()
    assert main(["demo", "seed", "--cases", "2"]) == 2
    assert "the database holds 1 real case(s)" in capsys.readouterr().err


def test_each_report_is_audited_and_its_files_are_its_owners_alone(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from store.db import make_engine
    from store.models import AccessAudit

    assert main(["demo", "seed", "--cases", "6", "--since", "2025-01-01"]) == 0
    out = tmp_path / "reports" / "2026"
    assert main(["report", "patterns", "--out", str(out), "--area", "coventry", "--from", "2025-01-01"]) == 0
    assert main(["report", "compliance", "--format", "csv", "--out", str(out), "--audience", "panel"]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    files = list(out.iterdir())
    assert len(files) > 2 and {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
    engine = make_engine(database)
    with Session(engine) as session:
        rows = session.scalars(select(AccessAudit).where(AccessAudit.purpose == "export")).all()
        assert [(r.case_id, r.surface, r.action) for r in rows] == [(None, "cli", "report")] * 2
        details = [r.detail or "" for r in rows]
    engine.dispose()
    assert (
        details[0].startswith("patterns report") and "coventry" in details[0] and "2025-01-01" in details[0]
    )
    assert details[1].startswith("compliance report") and "panel" in details[1] and "area all" in details[1]
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0  # in the chain like any other row
