"""The compliance report on SQLite and PostgreSQL, against the seeded history counted in Python."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.reports.compliance import REMINDER_KINDS, compliance
from bot.reports.labels import choice_labels
from dialogs.schema import Pack
from tests.bot.reports.history import NOW, expected_compliance, scope, seed


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session, session.begin():
        yield session


def test_compliance_matches_the_history_counted_apart(pack: Pack, session: Session) -> None:
    seed(pack, session)
    titles = {spec.code: spec.title for spec in pack.plan.points}
    areas = choice_labels(pack, "area")
    for window in (scope(), scope(first=date(2025, 6, 1), last=date(2026, 3, 31)), scope(area="walsall")):
        report = compliance(pack, session=session, scope=window, now=NOW)
        expected = expected_compliance(pack, session, window, NOW)
        per_point = expected["per_point"]
        assert per_point, "the seeded history has plan points in this window"
        for row in report.table("by_point").rows:
            code = next(c for c, t in titles.items() if t == row[0])
            due, on_time, still_open, escalated = per_point.get(code, [0, 0, 0, 0])  # type: ignore[attr-defined]
            assert row[1:3] == (due, on_time) and row[5:] == (still_open, escalated), code
            assert row[3] == (round(on_time / due, 3) if due else None)
            late = expected["late"].get(code)  # type: ignore[attr-defined]
            assert row[4] == (None if late is None else pytest.approx(late, abs=0.06))
        by_area = {row[0]: row for row in report.table("by_area").rows}
        for area, (due, on_time, still_open, escalated) in expected["per_area"].items():  # type: ignore[attr-defined]
            row = by_area[areas[area]]
            assert (row[1], row[2], row[5], row[6]) == (due, on_time, still_open, escalated)

        codes = [s.code for s in pack.plan.points if s.updates_victim]
        due = sum(per_point.get(c, [0])[0] for c in codes)  # type: ignore[attr-defined]
        met = sum(per_point.get(c, [0, 0])[1] for c in codes)  # type: ignore[attr-defined]
        headline = dict(report.headline)
        assert headline[pack.text("strings.report_head_victims_code")] == round(met / due, 3)
        assert headline[pack.text("strings.report_head_overdue")] == expected["overdue"]
        assert {row[0] for row in report.table("victims_code").rows} == {titles[c] for c in codes}

        sent = expected["sent"]
        messages = {row[0]: row[1] for row in report.table("messages").rows}
        reminders = sum(sent[k] for k in REMINDER_KINDS)  # type: ignore[index]
        assert messages[pack.text("strings.report_msg_reminders")] == reminders
        if window.area is None:
            assert messages[pack.text("strings.report_msg_escalations")] == sent["escalation"]  # type: ignore[index]
        else:
            assert messages[pack.text("strings.report_msg_escalations")] is None
    assert reminders > 0
