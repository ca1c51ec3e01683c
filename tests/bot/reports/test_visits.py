"""OPCC visit requests in the compliance report, by quarter, for each audience (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.reports.compliance import compliance
from bot.reports.output import write_report
from dialogs.schema import Pack
from store.people import ensure_person
from store.visits import add_visit_request
from tests.bot.reports.history import NOW, scope

#: (when the request was made, its status, whether it was debriefed); quarters in London time.
REQUESTS = [
    (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), "approved", False),  # 00:30 BST on 1 April: Q2
    *[(datetime(2026, 2, d, 10, tzinfo=UTC), "declined", False) for d in (2, 3)],
    *[(datetime(2026, 5, d, 10, tzinfo=UTC), "debriefed", True) for d in range(1, 7)],
    (datetime(2026, 6, 30, 10, tzinfo=UTC), "requested", False),
    (datetime(2026, 8, 1, 10, tzinfo=UTC), "approved", False),
]


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session, session.begin():
        visitor = ensure_person(session=session, email="apcc.lee.moss@example.police.uk", now=NOW)
        for number, (at, status, debriefed) in enumerate(REQUESTS):
            request = add_visit_request(
                session=session, visitor=visitor, submission_key=f"test:{number}", visitee="family",
                investigation="yes", nature="Views on support", capacity="office",
                proposed_on=date(2026, 9, 1), now=at,
            )  # fmt: skip
            request.status = status
            request.debriefed_at = at if debriefed else None
        session.flush()
        yield session


def test_visit_requests_are_counted_by_quarter(pack: Pack, session: Session) -> None:
    report = compliance(pack, session=session, scope=scope(), now=NOW)
    assert report.table("visits").rows == (
        ("2026-Q1", 2, 0, 2, 0),
        ("2026-Q2", 8, 7, 0, 6),
        ("2026-Q3", 1, 1, 0, 0),
    )
    window = compliance(
        pack, session=session, scope=scope(first=date(2026, 4, 1), last=date(2026, 6, 30)), now=NOW
    )
    assert window.table("visits").rows == (("2026-Q2", 8, 7, 0, 6),)


def test_a_panel_sees_small_counts_hidden_in_every_format(
    pack: Pack, session: Session, tmp_path: Path
) -> None:
    hidden = pack.text("strings.report_fewer_than_5")
    report = compliance(pack, session=session, scope=scope(audience="panel"), now=NOW)
    assert report.table("visits").rows == (
        ("2026-Q1", hidden, 0, hidden, 0),
        ("2026-Q2", 8, 7, 0, 6),
        ("2026-Q3", hidden, hidden, 0, 0),
    )
    pages = write_report(report, tmp_path / "html", "html", audience_note="", lang="en-GB")
    [page] = [p for p in pages if p.suffix == ".html"]
    assert pack.text("strings.report_visits").replace("'", "&#39;") in page.read_text(encoding="utf-8")
    assert tmp_path / "html" / "compliance-visits.png" in pages
    [document] = write_report(report, tmp_path / "json", "json", audience_note="", lang="en-GB")
    records = json.loads(document.read_text(encoding="utf-8"))["tables"]["visits"]["rows"]
    assert records[1] == {"quarter": "2026-Q2", "requested": 8, "approved": 7, "declined": 0, "debriefed": 6}
    written = write_report(report, tmp_path / "csv", "csv", audience_note="", lang="en-GB")
    [table] = [p for p in written if p.name == "compliance-visits.csv"]
    assert table.read_text(encoding="utf-8").splitlines()[1] == f"2026-Q1,{hidden},0,{hidden},0"
