"""The patterns report on SQLite and PostgreSQL, against the seeded history counted in Python."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.reports.labels import choice_labels
from bot.reports.patterns import patterns
from bot.reports.tables import Report
from dialogs.schema import Pack
from tests.bot.reports.history import NOW, expected_patterns, open_case, scope, seed


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session, session.begin():
        yield session


def _counts(report: Report, table: str, labels: dict[str, str]) -> dict[str, int]:
    """A table's counts keyed by stored value (the report shows labels)."""
    values = {label: value for value, label in labels.items()}
    rows = report.table(table).rows
    return {values[str(row[0])]: int(row[1]) for row in rows if row[1]}  # type: ignore[arg-type]


WINDOWS = (scope(), scope(first=date(2025, 9, 1), last=date(2026, 6, 30)), scope(area="coventry"))


def test_patterns_match_the_history_counted_apart(pack: Pack, session: Session) -> None:
    seed(pack, session)
    for window in WINDOWS:
        check_window(pack, session, window)


def check_window(pack: Pack, session: Session, window: object) -> None:
    report = patterns(pack, session=session, scope=window, now=NOW)  # type: ignore[arg-type]
    expected = expected_patterns(pack, session, window)  # type: ignore[arg-type]
    assert expected["total"], "the seeded history has cases in this window"

    assert dict(report.headline)[pack.text("strings.report_head_cases")] == expected["total"]
    monthly = {row[0]: row[1] for row in report.table("cases_monthly").rows if row[1]}
    assert monthly == dict(expected["months"])  # type: ignore[call-overload]
    assert sum(int(row[1]) for row in report.table("cases_weekly").rows) == expected["total"]  # type: ignore[arg-type]
    assert _counts(report, "by_kind", choice_labels(pack, "kind")) == expected["kinds"]
    assert _counts(report, "by_area", choice_labels(pack, "area")) == expected["areas"]
    assert _counts(report, "by_role", choice_labels(pack, "victim_role")) == expected["roles"]
    assert _counts(report, "by_injury", choice_labels(pack, "injury_level")) == expected["injuries"]
    assert _counts(report, "by_strand", choice_labels(pack, "hate_strand")) == expected["strands"]
    yes_no = {"yes": pack.text("strings.yes"), "no": pack.text("strings.no")}
    assert _counts(report, "by_hospital", yes_no) == expected["hospital"]

    heat = report.table("heatmap")
    cells = {(day, hour): row[hour + 1] for day, row in enumerate(heat.rows) for hour in range(24)}
    assert {k: v for k, v in cells.items() if v} == dict(expected["heat"])  # type: ignore[call-overload]

    assert report.table("repeat_summary").rows[0] == expected["repeat"]
    outcomes = {row[0]: row[1] for row in report.table("outcomes").rows}
    assert outcomes[pack.text("strings.report_arrested_at_report")] == expected["arrested"]
    decisions = choice_labels(pack, "decision")
    assert {v: outcomes[decisions[v]] for v in decisions if outcomes[decisions[v]]} == expected["decided"]

    timeliness = {row[0]: row[1:] for row in report.table("timeliness").rows}
    for key, values in (
        ("strings.report_time_to_io", "to_io"),
        ("strings.report_time_to_update", "to_update"),
    ):
        measured, median = timeliness[pack.text(key)]
        assert measured == len(expected[values])  # type: ignore[arg-type]
        assert median == pytest.approx(statistics.median(expected[values]), abs=0.06)  # type: ignore[arg-type]

    places = {str(row[0]).lower(): row[1] for row in report.table("top_locations").rows}
    top = expected["places"].most_common()  # type: ignore[attr-defined]
    assert all(places[place] == n for place, n in top if place in places)
    assert sorted(places.values(), reverse=True) == [n for _, n in top][: len(places)]


def test_places_typed_differently_are_counted_as_one_and_shown_as_first_typed(
    pack: Pack, session: Session
) -> None:
    """The location is ciphertext: places are grouped by its keyed hash, and a panel still sees no
    count below five."""
    spellings = [
        "Broad Street",
        "  broad   STREET ",
        "BROAD street",
        "Broad Street",
        "broad street",
        "Corporation Street",
    ]
    for n, spelling in enumerate(spellings):
        open_case(
            pack, session, occurred=datetime(2026, 3, 2 + n, 10, tzinfo=UTC), key=f"p{n}", location=spelling
        )
    session.flush()
    rows = patterns(pack, session=session, scope=scope(), now=NOW).table("top_locations").rows
    assert rows == (("Broad Street", 5), ("Corporation Street", 1))
    panel = (
        patterns(pack, session=session, scope=scope(audience="panel"), now=NOW).table("top_locations").rows
    )
    assert panel == (("Broad Street", 5), ("Corporation Street", pack.text("strings.report_fewer_than_5")))


def test_local_time_decides_the_month_the_day_and_the_hour(pack: Pack, session: Session) -> None:
    """An assault at 23:30 UTC on 30 June is at 00:30 on Wednesday 1 July in London (summer time);
    one at 23:30 UTC on 14 January is at 23:30 on Wednesday 14 January (no summer time)."""
    for number, occurred in enumerate(
        (datetime(2026, 6, 30, 23, 30, tzinfo=UTC), datetime(2026, 1, 14, 23, 30, tzinfo=UTC))
    ):
        open_case(pack, session, occurred=occurred, key=f"t:{number}")
    report = patterns(pack, session=session, scope=scope(), now=NOW)
    monthly = {row[0]: row[1] for row in report.table("cases_monthly").rows if row[1]}
    assert monthly == {"2026-01": 1, "2026-07": 1}
    heat = report.table("heatmap").rows
    wednesday = heat[2]
    assert wednesday[0 + 1] == 1 and wednesday[23 + 1] == 1
    assert sum(int(c) for row in heat for c in row[1:]) == 2  # type: ignore[arg-type]
    assert report.table("repeat_summary").rows[0] == (1, 2)
    july = patterns(
        pack, session=session, scope=scope(first=date(2026, 7, 1), last=date(2026, 7, 31)), now=NOW
    )
    assert dict(july.headline)[pack.text("strings.report_head_cases")] == 1
