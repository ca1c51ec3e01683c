"""The access audit: one row for every view, change or refusal of a case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import AccessAudit, Case, Person

__all__ = ["audit_rows", "record_access"]


def record_access(
    *,
    session: Session,
    person: Person | None,
    case: Case | None,
    surface: str,
    action: str,
    now: datetime,
    detail: str | None = None,
) -> None:
    """Write an audit row: who (`person`), which case, through which surface, what they did."""
    session.add(
        AccessAudit(
            at=now,
            person_id=person.id if person else None,
            case_id=case.id if case else None,
            surface=surface,
            action=action,
            detail=detail,
        )
    )


def audit_rows(*, session: Session, case: Case | None = None) -> list[AccessAudit]:
    """Audit rows, oldest first (for one case if given)."""
    query = select(AccessAudit).order_by(AccessAudit.id)
    if case is not None:
        query = query.where(AccessAudit.case_id == case.id)
    return list(session.scalars(query))
