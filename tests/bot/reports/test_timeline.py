"""One case's timeline: what happened, to which points, by whom; the report is an audited view."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.cases import service
from bot.reports.timeline import case_timeline
from dialogs.schema import Pack
from store.models import AccessAudit
from store.people import ensure_person
from tests.bot.reports.history import NOW, open_case, scope


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session, session.begin():
        yield session


def test_the_timeline_lists_events_and_points_and_is_audited(pack: Pack, session: Session) -> None:
    reporter = ensure_person(session=session, email="sgt.ravi.kaur@example.police.uk", now=NOW,
                             display_name="Ravi Kaur")  # fmt: skip
    io = ensure_person(
        session=session, email="ds.tom.reid@example.police.uk", now=NOW, display_name="Tom Reid"
    )
    case = open_case(pack, session, occurred=NOW, key="t:1", reporter=reporter)
    later = NOW + timedelta(hours=3)
    service.assign_investigator(pack, session=session, actor=reporter, case=case, investigator=io,
                                surface="test", now=later)  # fmt: skip
    service.record_decision(pack, session=session, actor=io, case=case, decision="no_further_action",
                            decided_at=later, surface="test", now=later)  # fmt: skip

    report = case_timeline(pack, session=session, reference=case.reference.lower(), scope=scope(), now=later)
    assert report is not None
    events = report.table("timeline").rows
    assert [row[1] for row in events][:2] == [
        pack.text("strings.report_event_created"),
        pack.text("strings.report_event_investigator_assigned"),
    ]
    nfa = pack.text("strings.decision_no_further_action")
    assert (pack.text("strings.report_event_decision_recorded") + ": " + nfa) in [row[1] for row in events]
    assert {row[2] for row in events} - {None} == {"Ravi Kaur", "Tom Reid"}  # None: the bot itself
    titles = {row[0] for row in report.table("points").rows}
    assert pack.plan.point("vrr_explained").title in titles  # type: ignore[union-attr]
    # Shown nowhere: what was said about the assault.
    cells = " ".join(str(c) for t in report.tables for row in t.rows for c in row)
    assert "Broad Street" not in cells and "Shaken" not in cells
    audit = session.scalars(select(AccessAudit).where(AccessAudit.action == "report")).all()
    assert [(a.case_id, a.surface) for a in audit] == [(case.id, "cli")]

    panel = case_timeline(
        pack, session=session, reference=case.reference, scope=scope(audience="panel"), now=later
    )
    assert panel is not None
    assert "by" not in [c.id for c in panel.table("timeline").columns]
    assert case_timeline(pack, session=session, reference="OH-1999-0001", scope=scope(), now=later) is None
