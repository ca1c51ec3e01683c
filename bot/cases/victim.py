"""The victim's own path: a colleague who says they were assaulted, and who reads a welfare record.

A victim who tells the bot what happened is never put through the supervisor's questionnaire:
they are offered support and the bot tells their supervisor, who is prompted to start the report
with the victim filled in. The update interval the victim chose is applied when that case opens
(`bot.cases.service.open_case`). The welfare record is read by the victim, the reporting
supervisor and the area's welfare officers only, and every read is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from bot.reminders.queue import queue
from dialogs.schema import Pack
from store import cases as case_store
from store.audit import record_access
from store.models import Case, Person, VictimDisclosure, WelfareRecord

__all__ = ["DISCLOSURE_NOTICE", "read_welfare", "tell_supervisor"]

#: The notice that asks a supervisor to start the report for a colleague who told the bot.
DISCLOSURE_NOTICE = "victim_disclosure"


def tell_supervisor(
    pack: Pack,
    *,
    session: Session,
    victim: Person,
    supervisor: Person,
    update_interval_days: int | None,
    now: datetime,
) -> VictimDisclosure:
    """Record the disclosure and queue the supervisor's prompt to start the report for `victim`.

    The prompt carries who the victim is (to fill in the report), never what they said happened.
    """
    disclosure = case_store.add_disclosure(
        session=session,
        victim=victim,
        supervisor=supervisor,
        update_interval_days=update_interval_days,
        now=now,
    )
    queue(
        pack,
        session=session,
        kind=DISCLOSURE_NOTICE,
        recipient=supervisor,
        slot=now,
        payload={"victim_email": victim.email, "victim_name": victim.name, "disclosure": disclosure.id},
        now=now,
        key=f"{DISCLOSURE_NOTICE}:{disclosure.id}",
    )
    return disclosure


def read_welfare(
    *, session: Session, reader: Person, case: Case, surface: str, now: datetime
) -> WelfareRecord | Literal["denied", "not_found"]:
    """The case's welfare record for someone entitled to it; the read (or refusal) is audited."""
    if not case_store.reads_welfare(case, reader):
        record_access(
            session=session, person=reader, case=case, surface=surface, action="denied", purpose="probe",
            now=now,
        )  # fmt: skip
        return "denied"
    record = case_store.welfare_of(session=session, case=case)
    if record is None:
        return "not_found"
    record_access(
        session=session, person=reader, case=case, surface=surface, action="welfare_view",
        purpose="case_view", now=now,
    )  # fmt: skip
    return record
