"""A report's files: a self-contained HTML page that prints to A4, PNG charts, CSV and JSON."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.reports.output import format_cell, write_report
from bot.reports.patterns import patterns
from bot.reports.tables import Report
from dialogs.schema import Pack
from tests.bot.reports.history import NOW, scope, seed

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def report(pack: Pack, sqlite_engine: Engine) -> Iterator[Report]:
    with Session(sqlite_engine) as session, session.begin():
        seed(pack, session, cases=15)
        yield patterns(pack, session=session, scope=scope(), now=NOW)


def test_html_is_one_self_contained_page_with_every_chart_inline(report: Report, tmp_path: Path) -> None:
    files = write_report(report, tmp_path, "html", audience_note="Internal", lang="en-GB")
    page = (tmp_path / "patterns.html").read_text(encoding="utf-8")
    charted = [t.id for t in report.tables if t.chart is not None and t.rows]
    assert sorted(f.name for f in files if f.suffix == ".png") == sorted(f"patterns-{i}.png" for i in charted)
    assert all(f.read_bytes().startswith(PNG) for f in files if f.suffix == ".png")
    assert page.count('src="data:image/png;base64,') == len(charted)
    # Nothing to fetch: no scripts, stylesheets, fonts or images from anywhere else.
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)
    assert "@import" not in page and "url(" not in page
    assert re.search(r"@page\s*{\s*size:\s*A4", page)
    assert '<html lang="en-GB">' in page


def test_csv_and_json_carry_the_numbers(report: Report, tmp_path: Path) -> None:
    write_report(report, tmp_path, "csv", audience_note="Internal", lang="en-GB")
    write_report(report, tmp_path, "json", audience_note="Internal", lang="en-GB")
    document = json.loads((tmp_path / "patterns.json").read_text(encoding="utf-8"))
    for table in report.tables:
        with (tmp_path / f"patterns-{table.id}.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == [c.id for c in table.columns]
        assert [[str(c) if c is not None else "" for c in row] for row in table.rows] == rows[1:]
        assert document["tables"][table.id]["rows"] == table.as_records()


def test_cells_read_as_people_expect() -> None:
    assert format_cell(0.8734, "share") == "87.3%"
    assert format_cell(None, "hours") == "—"
    assert format_cell(12.25, "hours") == "12.2"
    assert format_cell("fewer than 5", "count") == "fewer than 5"
