"""Reminders that name a case are disclosures of it: each delivery is audited, purpose `reminder`.

A message can name many cases (a grouped reminder, an escalation, a digest): its audit rows, one
for each case it named to its recipient, go to the audit trail in one insert with the delivery's
own transaction, so a message recorded as sent is always a message recorded as disclosed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialogs.notices import named_references
from store.audit import AuditEntry, append_audit
from store.models import Case, Nudge

__all__ = ["audit_disclosures", "named_references"]


def audit_disclosures(
    *,
    session: Session,
    sent: Sequence[tuple[Nudge, Mapping[str, Any]]],
    surface: str | None = None,
    now: datetime,
) -> None:
    """Audit the cases named by messages just delivered (each row with the payload it was sent with).

    Args:
        surface: where the messages went, when not the rows' own channel (the console).
    """
    named = {row.id: named_references(payload) for row, payload in sent}
    wanted = {reference for references in named.values() for reference in references}
    if not wanted:
        return
    found = session.execute(select(Case.reference, Case.id).where(Case.reference.in_(wanted)))
    ids: dict[str, int] = {reference: case_id for reference, case_id in found}
    entries = [
        AuditEntry(
            at=now,
            person_id=row.recipient_id,
            case_id=ids[reference],
            surface=surface or row.channel or "unknown",
            action="disclose",
            purpose="reminder",
            detail=f"{row.kind} message {row.id}",
        )
        for row, _ in sent
        for reference in named[row.id]
        if reference in ids
    ]
    append_audit(session=session, entries=entries)
