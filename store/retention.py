"""Forgetting on time: unfinished conversations, processed event ids, closed cases past retention.

Each prune counts first and, unless it is a dry run, deletes what it counted in the caller's
transaction. A closed case goes with everything hanging from it (points, reminders, timeline,
welfare record, colleagues present); the audit trail keeps its rows about the case, and gains one
saying it was deleted, naming only its reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from store.audit import record_access
from store.events import forget_processed_before
from store.models import (
    Case,
    CaseEvent,
    CaseWitness,
    DialogStateRow,
    Nudge,
    PlanPoint,
    ProcessedEvent,
    WelfareRecord,
)

__all__ = ["DELETED", "RETENTION_SURFACE", "Pruned", "prune"]

#: The audit row of a case deleted at the end of its retention period: action and surface.
DELETED = "deleted"
RETENTION_SURFACE = "retention"


@dataclass(frozen=True)
class Pruned:
    """How many of each were (or, in a dry run, would be) deleted."""

    conversations: int
    processed_events: int
    closed_cases: int


def _count(session: Session, model: type, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def prune(
    *,
    session: Session,
    now: datetime,
    conversations_before: datetime,
    events_before: datetime,
    cases_closed_before: datetime,
    dry_run: bool = False,
) -> Pruned:
    """Delete conversations untouched since, event ids processed before and cases closed before
    the given times (count only, with `dry_run`); each deleted case is audited at `now`."""
    stale = DialogStateRow.updated_at < conversations_before
    conversations = _count(session, DialogStateRow, stale)
    events = _count(session, ProcessedEvent, ProcessedEvent.processed_at < events_before)
    expired = list(
        session.execute(
            select(Case.id, Case.reference)
            .where(Case.status == "closed", Case.closed_at < cases_closed_before)
            .order_by(Case.id)
        )
    )
    if not dry_run:
        session.execute(delete(DialogStateRow).where(stale).execution_options(synchronize_session=False))
        forget_processed_before(session=session, before=events_before)
        for case_id, reference in expired:
            case = session.get(Case, case_id)
            # Written first, so the row carries the case's id like the rows before it.
            record_access(
                session=session, person=None, case=case, surface=RETENTION_SURFACE, action=DELETED,
                purpose="retention", now=now, detail=f"case {reference}",
            )  # fmt: skip
            session.flush()
            if case is not None:
                session.expunge(case)
            _delete_case(session, case_id)
    return Pruned(conversations, events, len(expired))


def _delete_case(session: Session, case_id: int) -> None:
    """Delete a case and every row hanging from it (children first: no cascade is relied on)."""
    points = select(PlanPoint.id).where(PlanPoint.case_id == case_id).scalar_subquery()
    statements = [
        delete(Nudge).where(or_(Nudge.case_id == case_id, Nudge.point_id.in_(points))),
        delete(CaseEvent).where(CaseEvent.case_id == case_id),
        delete(WelfareRecord).where(WelfareRecord.case_id == case_id),
        delete(CaseWitness).where(CaseWitness.case_id == case_id),
        delete(PlanPoint).where(PlanPoint.case_id == case_id),
        delete(Case).where(Case.id == case_id),
    ]
    for statement in statements:
        session.execute(statement.execution_options(synchronize_session=False))
