"""Forgetting on time: unfinished conversations, processed event ids, finished outbox rows (replies
and reminders, which hold what they said) and closed cases past retention.

Each prune counts first and, unless it is a dry run, deletes what it counted in the caller's
transaction. A closed case goes with everything hanging from it (points, reminders, timeline,
welfare record, colleagues present) and with every reminder still kept that names it (a digest or
an escalation names cases in its encrypted payload only); the audit trail keeps its rows about the
case, and gains one saying it was deleted, naming only its reference.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from dialogs.notices import named_references
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
    QueuedReply,
    WelfareRecord,
)

__all__ = ["DELETED", "FINISHED_REMINDERS", "FINISHED_REPLIES", "RETENTION_SURFACE", "Pruned", "prune"]

#: The audit row of a case deleted at the end of its retention period: action and surface.
DELETED = "deleted"
RETENTION_SURFACE = "retention"
#: Outbox rows nothing will send again (an uncertain one may still be looked up and is kept).
FINISHED_REPLIES = ("sent", "failed", "unconfirmed")
FINISHED_REMINDERS = ("sent", "failed", "unconfirmed", "withdrawn")


@dataclass(frozen=True)
class Pruned:
    """How many of each were (or, in a dry run, would be) deleted."""

    conversations: int
    processed_events: int
    closed_cases: int
    replies: int = 0
    reminders: int = 0


def _count(session: Session, model: type, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def prune(
    *,
    session: Session,
    now: datetime,
    conversations_before: datetime,
    events_before: datetime,
    cases_closed_before: datetime,
    replies_before: datetime,
    reminders_before: datetime,
    dry_run: bool = False,
) -> Pruned:
    """Delete conversations untouched since, event ids processed before, finished replies and
    reminders last touched before, and cases closed before the given times (count only, with
    `dry_run`); each deleted case is audited at `now`."""
    stale = DialogStateRow.updated_at < conversations_before
    conversations = _count(session, DialogStateRow, stale)
    events = _count(session, ProcessedEvent, ProcessedEvent.processed_at < events_before)
    # A row that was never sent is finished when it was given up on: its creation dates it.
    old_replies = QueuedReply.status.in_(FINISHED_REPLIES) & (
        func.coalesce(QueuedReply.sent_at, QueuedReply.created_at) < replies_before
    )
    old_reminders = Nudge.status.in_(FINISHED_REMINDERS) & (
        func.coalesce(Nudge.sent_at, Nudge.created_at) < reminders_before
    )
    replies = _count(session, QueuedReply, old_replies)
    reminders = _count(session, Nudge, old_reminders)
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
        for finished in (delete(QueuedReply).where(old_replies), delete(Nudge).where(old_reminders)):
            session.execute(finished.execution_options(synchronize_session=False))
        naming = _reminders_naming(session, {reference for _, reference in expired})
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
            _delete_case(session, case_id, naming.get(reference, set()))
    return Pruned(conversations, events, len(expired), replies, reminders)


def _reminders_naming(session: Session, references: Collection[str]) -> dict[str, set[int]]:
    """The reminder rows not tied to a case by column whose payload names each of `references`.

    The payload is encrypted, so it cannot be searched in SQL: the rows are read (one query, and
    only when a case is to go) and their payloads looked at here.
    """
    if not references:
        return {}
    naming: dict[str, set[int]] = {}
    for row_id, payload in session.execute(select(Nudge.id, Nudge.payload).where(Nudge.case_id.is_(None))):
        for reference in named_references(payload):
            if reference in references:
                naming.setdefault(reference, set()).add(row_id)
    return naming


def _delete_case(session: Session, case_id: int, naming: Collection[int]) -> None:
    """Delete a case and every row hanging from it, with the reminders `naming` it (children first:
    no cascade is relied on)."""
    points = select(PlanPoint.id).where(PlanPoint.case_id == case_id).scalar_subquery()
    statements = [
        delete(Nudge).where(or_(Nudge.case_id == case_id, Nudge.point_id.in_(points), Nudge.id.in_(naming))),
        delete(CaseEvent).where(CaseEvent.case_id == case_id),
        delete(WelfareRecord).where(WelfareRecord.case_id == case_id),
        delete(CaseWitness).where(CaseWitness.case_id == case_id),
        delete(PlanPoint).where(PlanPoint.case_id == case_id),
        delete(Case).where(Case.id == case_id),
    ]
    for statement in statements:
        session.execute(statement.execution_options(synchronize_session=False))
