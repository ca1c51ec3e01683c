"""Visit requests counted by quarter for `hampshire report`, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from store.people import ensure_person
from store.visits import QuarterCount, add_visit_request, find_visit, visit_counts, visits_of

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _request(session: Session, at: datetime, status: str, debriefed: bool = False) -> str:
    visitor = ensure_person(session=session, email="apcc.lee.moss@example.police.uk", now=NOW)
    request = add_visit_request(
        session=session, visitor=visitor, submission_key=f"console:{at.isoformat()}:{status}",
        visitee="family", investigation="yes", nature="Views on services", capacity="office",
        proposed_on=date(2026, 12, 4), now=at,
    )  # fmt: skip
    request.status = status
    request.debriefed_at = at if debriefed else None
    return request.reference


def test_requests_are_counted_by_the_quarter_they_were_made_in(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        first = _request(session, datetime(2026, 3, 31, 23, 30, tzinfo=UTC), "declined")  # 00:30 BST: Q2
        _request(session, datetime(2026, 5, 1, 9, 0, tzinfo=UTC), "approved")
        _request(session, datetime(2026, 11, 2, 9, 0, tzinfo=UTC), "debriefed", debriefed=True)
        _request(session, datetime(2026, 11, 3, 9, 0, tzinfo=UTC), "guidance_sought")
        assert first == "OV-2026-0001"
    with Session(engine) as session:
        assert visit_counts(session=session) == [
            QuarterCount("2026-Q2", requested=2, approved=1, declined=1, debriefed=0),
            QuarterCount("2026-Q4", requested=2, approved=1, declined=0, debriefed=1),
        ]
        assert visit_counts(session=session, timezone="UTC")[0].quarter == "2026-Q1"
        assert find_visit(session=session, reference=" ov-2026-0002 ") is not None
        visitor = ensure_person(session=session, email="apcc.lee.moss@example.police.uk", now=NOW)
        assert [r.reference for r in visits_of(session=session, visitor=visitor)][:1] == ["OV-2026-0004"]
