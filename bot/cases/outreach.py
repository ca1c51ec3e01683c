"""Points 9 and 10 done by the bot: the staff association told, the leaflet sent to the victim.

With the victim's consent, opening a case queues a notice to each contact of their association
(pack.yaml `associations`: people in Slack or Teams, mailboxes by email) and queues the "what
happens next" leaflet to the victim; consent recorded later ("update case") queues the leaflet
then. Everything goes through the outbox (exactly once, retried), and a delivery completes its
point (plan.yaml `completed_by`, `service.note_delivered`). A leaflet held because the victim
cannot be reached yet waits for their first message to the bot (`store.outbox.release_held`),
and their supervisor is asked to hand it over meanwhile (`note_held`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from bot.people.identity import mailbox
from bot.reminders.queue import queue
from dialogs.associations import NONE, contacts_of
from dialogs.schema import Pack
from store import cases as case_store
from store.audit import record_access
from store.models import Case, Nudge, Person
from store.people import ensure_person

__all__ = [
    "ASSOCIATION_NOTICE",
    "LEAFLET",
    "HELD_NEEDS_NOTE",
    "LEAFLET_HANDOVER",
    "note_held",
    "queue_association_notices",
    "queue_leaflet",
    "record_consent",
]

ASSOCIATION_NOTICE = "association_notice"
LEAFLET = "victim_leaflet"
LEAFLET_HANDOVER = "leaflet_handover"


def queue_association_notices(pack: Pack, *, session: Session, case: Case, now: datetime) -> int:
    """With the victim's consent, queue the notice to each contact of their association.

    Returns how many were queued (0 without consent, without an association, or with no contact:
    the supervisor's reminder then says what to do). The notice carries who, where and when,
    never what happened.
    """
    association = case.association
    if not case.consent_association or association is None or association == NONE:
        return 0
    contacts = contacts_of(pack, association)
    recipients = [ensure_person(session=session, email=email, now=now) for email in contacts.people]
    recipients += [mailbox(session=session, address=address, now=now) for address in contacts.emails]
    payload = {
        "reference": case.reference,
        "association": association,
        "victim_name": case.victim.name,
        "victim_email": case.victim.email,
        "role": case.victim_role,
        "area": case.area,
        "occurred": case.occurred_at.isoformat(),
        "reporter_name": case.reporter.name,
        "reporter_email": case.reporter.email,
    }
    queued = 0
    for person in {p.id: p for p in recipients}.values():
        queued += queue(
            pack,
            session=session,
            kind=ASSOCIATION_NOTICE,
            recipient=person,
            slot=now,
            payload=payload,
            now=now,
            case_id=case.id,
            key=f"{ASSOCIATION_NOTICE}:{case.id}:{person.id}",
        )
    return queued


def queue_leaflet(pack: Pack, *, session: Session, case: Case, now: datetime) -> bool:
    """With the victim's consent, queue the "what happens next" leaflet to them (once per case)."""
    if not case.consent_contact or pack.meta.leaflet is None:
        return False
    payload: dict[str, Any] = {
        "reference": case.reference,
        "role": case.victim_role,
        "hate_strand": case.hate_strand if case.hate_crime else None,
    }
    if case.io is not None:
        payload |= {"io_name": case.io.name, "io_email": case.io.email}
    return queue(
        pack,
        session=session,
        kind=LEAFLET,
        recipient=case.victim,
        slot=now,
        payload=payload,
        now=now,
        case_id=case.id,
        key=f"{LEAFLET}:{case.id}",
    )


def record_consent(
    pack: Pack, *, session: Session, actor: Person, case: Case, surface: str, now: datetime
) -> Literal["recorded", "already", "denied"]:
    """The victim now agrees to hear from the bot: recorded on the case, and the leaflet sent.

    Only the reporting supervisor and the investigating officer record it; a refusal is audited.
    """
    if case_store.relation(case, actor) not in ("reporter", "io"):
        record_access(
            session=session,
            person=actor,
            case=case,
            surface=surface,
            action="denied",
            purpose="probe",
            now=now,
        )
        return "denied"
    if case.consent_contact:
        return "already"
    case_store.set_case_fields(session=session, case=case, consent_contact=True)
    case_store.add_event(session=session, case=case, kind="consent_recorded", actor=actor, now=now)
    record_access(
        session=session,
        person=actor,
        case=case,
        surface=surface,
        action="update",
        purpose="case_update",
        now=now,
    )
    queue_leaflet(pack, session=session, case=case, now=now)
    return "recorded"


#: The kinds of message whose holding `note_held` acts on (the rest just wait).
HELD_NEEDS_NOTE = frozenset({LEAFLET})


def note_held(pack: Pack, *, session: Session, nudge: Nudge, now: datetime) -> bool:
    """A leaflet is held (the victim cannot be reached yet): ask their supervisor, once, to hand
    it over meanwhile. Returns whether that was queued now."""
    if nudge.kind != LEAFLET or nudge.case_id is None:
        return False
    case = session.get(Case, nudge.case_id)
    if case is None or case.status != "open":
        return False
    return queue(
        pack,
        session=session,
        kind=LEAFLET_HANDOVER,
        recipient=case.reporter,
        slot=now,
        payload={"reference": case.reference},
        now=now,
        case_id=case.id,
        key=f"{LEAFLET_HANDOVER}:{case.id}",
    )
