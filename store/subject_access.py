"""Subject access: everything held about one person, decrypted, as JSON-ready data, and audited.

What is about the person is given in full: their record and roles, their channel accounts and
conversations with the bot, the cases where they were the victim (with the welfare record about
them, and their staff association), the OPCC visits they asked to make (with their timeline),
the plan points they own or closed, the reminders sent to them, what they did (the case timeline
and the audit), and who viewed the cases about them. In cases where they were only the reporter,
the investigating officer or a colleague present, the victim's account is someone else's data:
those cases are listed with the person's part in them, not the victim's detail (nor a point's
not-applicable reason, which is about the case). Likewise a conversation about someone else (a
report being made, a case being worked) is given as its flow, step and the slots answered so far,
without their values. Other people are named only where they acted on the person's data (the
audit of who viewed it, who decided their visit).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dialogs.types import DialogState
from store.audit import AuditEntry, append_audit
from store.models import (
    AccessAudit,
    Case,
    CaseEvent,
    CaseWitness,
    ChannelIdentity,
    DialogStateRow,
    Nudge,
    Person,
    PlanPoint,
    VictimDisclosure,
    VisitEvent,
    VisitRequest,
    WelfareRecord,
)

__all__ = ["WITHHELD", "export_person"]

#: What stands for a value a conversation holds about someone else.
WITHHELD = "(withheld: about someone else)"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _parts(case: Case, person: Person, witnessed: set[int]) -> list[str]:
    parts = []
    if case.victim_id == person.id:
        parts.append("victim")
    if case.reporter_id == person.id:
        parts.append("reporter")
    if case.io_id == person.id:
        parts.append("investigating_officer")
    if case.id in witnessed:
        parts.append("colleague_present")
    return parts


def _case(case: Case, parts: list[str], welfare: WelfareRecord | None) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "reference": case.reference,
        "your_part": parts,
        "kind": case.kind,
        "area": case.area,
        "status": case.status,
        "reported_at": _iso(case.reported_at),
    }
    if "victim" not in parts:
        return shown
    return shown | {
        "hate_crime": case.hate_crime,
        "hate_strand": case.hate_strand,
        "occurred_at": _iso(case.occurred_at),
        "location": case.location,
        "injury_level": case.injury_level,
        "injury_detail": case.injury_detail,
        "medical_care": case.medical_care,
        "hospitalised": case.hospitalised,
        "suspect_arrested": case.suspect_arrested,
        "crime_reference": case.crime_reference,
        "victim_role": case.victim_role,
        "enhanced_rights": case.enhanced_rights,
        "consent_contact": case.consent_contact,
        "association": case.association,
        "consent_association": case.consent_association,
        "update_interval_days": case.update_interval_days,
        "closed_at": _iso(case.closed_at),
        "welfare_record": None
        if welfare is None
        else {
            "how_they_are": welfare.how_they_are,
            "support_needed": welfare.support_needed,
            "duties_handover": welfare.duties_handover,
            "recorded_at": _iso(welfare.recorded_at),
        },
    }


def _about_someone_else(state: DialogState, person: Person, own: set[str]) -> bool:
    """Whether a conversation's answers are about another person: a victim named who is not them,
    or a case or visit referred to that is not theirs (`own`: their references, upper case)."""
    victim = state.answers.get("victim_email")
    if isinstance(victim, str) and victim.strip().lower() != person.email:
        return True
    named = [state.answers.get(slot) for slot in ("case", "visit")]
    return any(isinstance(ref, str) and ref.strip().upper() not in own for ref in named)


def _shown_state(state: DialogState, person: Person, own: set[str]) -> dict[str, Any]:
    """A state as data; values about someone else withheld, which slots were answered kept.

    What effects returned (`results`) are copies of records the bot showed, which may be anyone's:
    only their names are given (the person's own records are in the export's other sections).
    """
    shown = state.model_dump(mode="json", exclude={"paused"})
    if _about_someone_else(state, person, own):
        shown["answers"] = {slot: WITHHELD for slot in state.answers}
    shown["results"] = sorted(state.results)
    shown["paused"] = None if state.paused is None else _shown_state(state.paused, person, own)
    return shown


def _state(stored: str, person: Person, own: set[str]) -> Any:
    """A conversation's state as data (withheld, when it no longer reads as a state)."""
    try:
        state = DialogState.model_validate_json(stored)
    except ValidationError:
        return WITHHELD
    return _shown_state(state, person, own)


def _point(point: PlanPoint, references: dict[int, str], as_victim: set[int]) -> dict[str, Any]:
    return {
        "case": references.get(point.case_id),
        "code": point.code,
        "instance": point.instance,
        "status": point.status,
        "due_at": _iso(point.due_at),
        "done_at": _iso(point.done_at),
        # Why a point did not apply is about the case, so the victim's to know, not the writer's.
        **({"reason": point.na_reason} if point.case_id in as_victim else {}),
    }


def _visit(request: VisitRequest, events: list[VisitEvent], emails: dict[int, str]) -> dict[str, Any]:
    return {
        "reference": request.reference,
        "visitee": request.visitee,
        "investigation": request.investigation,
        "nature": request.nature,
        "capacity": request.capacity,
        "proposed_on": request.proposed_on.isoformat(),
        "status": request.status,
        "guidance": request.guidance,
        "guidance_text": request.guidance_text,
        "issues": request.issues,
        "decided_by": emails.get(request.decided_by_id) if request.decided_by_id else None,
        "decided_as": request.decided_as,
        "plan": request.plan,
        "debrief_wanted": request.debrief_wanted,
        "reason": request.reason,
        "debrief": request.debrief,
        "requested_at": _iso(request.requested_at),
        "decided_at": _iso(request.decided_at),
        "debriefed_at": _iso(request.debriefed_at),
        "timeline": [
            {
                "at": _iso(e.at),
                "who": emails.get(e.actor_id) if e.actor_id else None,
                "kind": e.kind,
                "detail": e.detail,
            }
            for e in events
            if e.request_id == request.id
        ],
    }


def _audit_row(row: AccessAudit, references: dict[int, str], emails: dict[int, str]) -> dict[str, Any]:
    return {
        "at": _iso(row.at),
        "who": emails.get(row.person_id) if row.person_id else None,
        "case": references.get(row.case_id) if row.case_id else None,
        "surface": row.surface,
        "action": row.action,
        "purpose": row.purpose,
    }


def export_person(*, session: Session, email: str, surface: str, now: datetime) -> dict[str, Any] | None:
    """Everything held about the person with work `email` (None: nobody by that email).

    The export is itself audited (purpose `subject_access`): a row for the person and one for each
    case it includes, appended in one insert after the data is read (so the export does not list
    itself).
    """
    person = session.scalar(select(Person).where(Person.email == email.strip().lower()))
    if person is None:
        return None
    witnessed = set(session.scalars(select(CaseWitness.case_id).where(CaseWitness.person_id == person.id)))
    cases = list(
        session.scalars(
            select(Case)
            .where(
                or_(
                    Case.victim_id == person.id,
                    Case.reporter_id == person.id,
                    Case.io_id == person.id,
                    Case.id.in_(witnessed),
                )
            )
            .order_by(Case.id)
        )
    )
    as_victim = [case.id for case in cases if case.victim_id == person.id]
    visits = list(
        session.scalars(
            select(VisitRequest).where(VisitRequest.visitor_id == person.id).order_by(VisitRequest.id)
        )
    )
    visit_events = list(
        session.scalars(
            select(VisitEvent)
            .where(VisitEvent.request_id.in_([v.id for v in visits]))
            .order_by(VisitEvent.at, VisitEvent.id)
        )
    )
    welfare = {
        record.case_id: record
        for record in session.scalars(select(WelfareRecord).where(WelfareRecord.case_id.in_(as_victim)))
    }
    points = list(
        session.scalars(
            select(PlanPoint)
            .where(or_(PlanPoint.owner_id == person.id, PlanPoint.done_by_id == person.id))
            .order_by(PlanPoint.case_id, PlanPoint.id)
        )
    )
    identities = list(session.scalars(select(ChannelIdentity).where(ChannelIdentity.person_id == person.id)))
    keys = [f"{i.channel}:{i.tenant}:{i.user_id}" for i in identities]
    conversations = list(session.scalars(select(DialogStateRow).where(DialogStateRow.key.in_(keys))))
    nudges = list(session.scalars(select(Nudge).where(Nudge.recipient_id == person.id).order_by(Nudge.id)))
    disclosures = list(
        session.scalars(
            select(VictimDisclosure)
            .where(or_(VictimDisclosure.victim_id == person.id, VictimDisclosure.supervisor_id == person.id))
            .order_by(VictimDisclosure.id)
        )
    )
    events = list(
        session.scalars(select(CaseEvent).where(CaseEvent.actor_id == person.id).order_by(CaseEvent.id))
    )
    done = list(
        session.scalars(
            select(AccessAudit)
            .where(or_(AccessAudit.person_id == person.id, AccessAudit.case_id.in_(as_victim)))
            .order_by(AccessAudit.seq)
        )
    )
    case_ids = {p.case_id for p in points} | {e.case_id for e in events}
    case_ids |= {a.case_id for a in done if a.case_id} | {n.case_id for n in nudges if n.case_id}
    found = session.execute(select(Case.id, Case.reference).where(Case.id.in_(case_ids)))
    references: dict[int, str] = {case_id: reference for case_id, reference in found}
    people = {a.person_id for a in done if a.person_id} | {e.actor_id for e in visit_events if e.actor_id}
    people |= {v.decided_by_id for v in visits if v.decided_by_id}
    viewers = session.execute(select(Person.id, Person.email).where(Person.id.in_(people)))
    emails: dict[int, str] = {person_id: email for person_id, email in viewers}

    own = {case.reference.upper() for case in cases if case.victim_id == person.id}
    own |= {request.reference.upper() for request in visits}
    export = {
        "person": {
            "email": person.email,
            "display_name": person.display_name,
            "area": person.area,
            "quiet_hours": [person.quiet_from, person.quiet_until],
            "created_at": _iso(person.created_at),
            "roles": [{"role": r.role, "area": r.area} for r in person.roles],
        },
        "channel_accounts": [
            {
                "channel": i.channel,
                "tenant": i.tenant,
                "user_id": i.user_id,
                "last_seen_at": _iso(i.last_seen_at),
            }
            for i in identities
        ],
        "conversations": [
            {
                "key": row.key,
                "updated_at": _iso(row.updated_at),
                "state": _state(row.state, person, own),
                "quarantined": None if row.quarantined is None else _state(row.quarantined, person, own),
            }
            for row in conversations
        ],
        "cases": [_case(case, _parts(case, person, witnessed), welfare.get(case.id)) for case in cases],
        "plan_points": [_point(point, references, set(as_victim)) for point in points],
        "visits": [_visit(request, visit_events, emails) for request in visits],
        "reminders": [
            {
                "kind": n.kind,
                "case": references.get(n.case_id) if n.case_id else None,
                "due_slot": _iso(n.due_slot),
                "status": n.status,
                "sent_at": _iso(n.sent_at),
            }
            for n in nudges
        ],
        "actions": [{"at": _iso(e.at), "case": references.get(e.case_id), "kind": e.kind} for e in events],
        # Told the bot of their own assault (as the victim), or were asked to report one (as supervisor).
        "disclosures": [
            {
                "as": "victim" if d.victim_id == person.id else "supervisor",
                "at": _iso(d.created_at),
                "update_interval_days": d.update_interval_days,
                "case": d.case_id is not None,
            }
            for d in disclosures
        ],
        "audit": [_audit_row(row, references, emails) for row in done],
    }
    detail = f"subject access for person {person.id}"
    append_audit(
        session=session,
        entries=[
            AuditEntry(
                at=now,
                person_id=None,
                case_id=case_id,
                surface=surface,
                action="export",
                purpose="subject_access",
                detail=detail,
            )
            for case_id in [None, *(case.id for case in cases)]
        ],
    )
    return export
