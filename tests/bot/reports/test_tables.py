"""Small numbers: what a panel audience sees of a table, a headline and a whole report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.reports.compliance import compliance
from bot.reports.output import write_report
from bot.reports.patterns import patterns
from bot.reports.tables import Column, Table, for_audience
from dialogs.schema import Pack
from store.models import Person
from tests.bot.reports.history import NOW, scope, seed

HIDDEN = "fewer than 5"
TABLE = Table(
    id="t",
    title="T",
    columns=(
        Column("label", "Label", "label"),
        Column("who", "Who", "person"),
        Column("due", "Due"),
        Column("share", "Share", "share", base="due"),
    ),
    rows=(
        ("a", "Amy Hart", 0, None),
        ("b", "Ben Ward", 1, 1.0),
        ("c", "Chloe Okafor", 4, 0.5),
        ("d", "Dev", 5, 0.2),
    ),
)
PEOPLE = Table(id="p", title="P", columns=(Column("n", "N"),), rows=((7,),), per_person=True)


def test_internal_sees_everything() -> None:
    assert for_audience([TABLE, PEOPLE], "internal", hidden=HIDDEN) == (TABLE, PEOPLE)


def test_panel_sees_no_count_from_one_to_four_no_figure_from_them_and_no_name() -> None:
    (table,) = for_audience([TABLE, PEOPLE], "panel", hidden=HIDDEN)
    assert [c.id for c in table.columns] == ["label", "due", "share"]
    assert table.rows == (("a", 0, None), ("b", HIDDEN, HIDDEN), ("c", HIDDEN, HIDDEN), ("d", 5, 0.2))


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session, session.begin():
        yield session


def test_a_panel_report_names_nobody_and_hides_small_counts(
    pack: Pack, session: Session, tmp_path: Path
) -> None:
    seed(pack, session, cases=20)
    hidden = pack.text("strings.report_fewer_than_5")
    people = session.scalars(select(Person)).all()
    names = {p.display_name for p in people if p.display_name} | {p.email for p in people}
    internal = patterns(pack, session=session, scope=scope(), now=NOW)
    assert "repeat_victims" in {t.id for t in internal.tables}
    for kind, build in (("patterns", patterns), ("compliance", compliance)):
        report = build(pack, session=session, scope=scope(audience="panel"), now=NOW)
        assert "repeat_victims" not in {t.id for t in report.tables}
        cells = [cell for t in report.tables for row in t.rows for cell in row]
        cells += [value for _, value in report.headline]
        assert not [c for c in cells if isinstance(c, int) and 0 < c < 5], kind
        assert hidden in cells, kind
        note = pack.text("strings.report_audience_panel")
        files = write_report(report, tmp_path / kind, "html", audience_note=note, lang="en-GB")
        files += write_report(report, tmp_path / kind, "json", audience_note=note, lang="en-GB")
        files += write_report(report, tmp_path / kind, "csv", audience_note=note, lang="en-GB")
        written = " ".join(f.read_text(encoding="utf-8") for f in files if f.suffix != ".png")
        assert not [n for n in names if n in written], kind
        assert hidden in written
        document = json.loads((tmp_path / kind / f"{kind}.json").read_text(encoding="utf-8"))
        assert document["audience"] == "panel"
