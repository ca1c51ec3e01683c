"""The visits service: every change to an OPCC visit request, by the pack's `visits.yaml`.

Before anyone from the Office of the Police and Crime Commissioner visits a victim, their family
or others during a police investigation, the Commissioner (or the Chief Executive acting for them)
must give permission (seed 004). A request moves through steps, each with an owner and a clock
kept by `bot.cases.points.change_point`, as a plan point's is: the Chief Executive seeks the
force's guidance, the force's liaison gives it, the Chief Executive records the issues discussed
with the visitor, the Commissioner decides, and the visitor debriefs when the plan asks. Each step
is on the request's timeline and audited; each owner is sent a card through the outbox. The
force's liaison answers with guidance only: nothing here reads a case, so no case detail can reach
the OPCC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.cases.points import Close, Open, PointChange, Snooze, change_point, clock_of, new_clock
from bot.reminders.queue import queue, withdraw
from dialogs.clock import due_at, to_utc
from dialogs.schema import Pack, Visits, VisitStepSpec
from store import visits as store
from store.audit import record_access
from store.models import Person, VisitRequest, VisitStep
from store.people import people_with_role

__all__ = [
    "ACTIONS",
    "CARD_OF_STEP",
    "check_step",
    "Outcome",
    "audit_view",
    "card_values",
    "decide",
    "give_guidance",
    "may_request",
    "move_step",
    "record_debrief",
    "record_issues",
    "recipients",
    "refer",
    "request_visit",
    "seek_guidance",
    "step_message",
]

Outcome = str
Refused = Literal["already", "denied", "not_found"]

#: The card a step's owner is sent (and sent again as its reminder).
CARD_OF_STEP = {
    "guidance_sought": "visit_briefing",
    "guidance_given": "visit_guidance_ask",
    "issues_discussed": "visit_guidance",
    "decision": "visit_decide",
    "await_permission": "visit_not_yet",
    "debrief": "visit_debrief_ask",
}
CHIEF_EXECUTIVE = "opcc_chief_executive"
COMMISSIONER = "commissioner"
LIAISON = "opcc_liaison"
#: Who decided: the Commissioner, or the Chief Executive acting on their behalf (seed 004, 7).
DECIDED_AS = {COMMISSIONER: "commissioner", CHIEF_EXECUTIVE: "chief_executive_for_commissioner"}


def _visits(pack: Pack) -> Visits:
    if pack.visits is None:
        raise LookupError("the pack has no visits.yaml")
    return pack.visits


def _holds(person: Person, role: str) -> bool:
    return any(r.role == role for r in person.roles)


def may_request(pack: Pack, person: Person) -> bool:
    """Whether `person` is a visitor the protocol covers (the pack's `visitor_roles`)."""
    return any(_holds(person, role) for role in _visits(pack).visitor_roles)


def recipients(pack: Pack, session: Session, request: VisitRequest, owner: str) -> list[Person]:
    """Who holds a step's `owner`: the request's visitor, or everyone holding that role but the
    visitor, and, when the visitor holds it, the role the pack's `stand_ins` names for it."""
    if owner == "visitor":
        return [request.visitor]
    roles = [owner]
    stand_in = _visits(pack).stand_ins.get(owner)  # type: ignore[call-overload]
    if stand_in is not None and _holds(request.visitor, owner):
        roles.append(stand_in)
    found: list[Person] = []
    for role in roles:
        found += [p for p in people_with_role(session=session, role=role) if p.id != request.visitor_id]
    return list(dict.fromkeys(found))


def card_values(request: VisitRequest) -> dict[str, Any]:
    """What a card about `request` may show: the briefing, guidance, issues and decision."""
    values: dict[str, Any] = {
        "reference": request.reference,
        "visitor": request.visitor.name,
        "visitee": request.visitee,
        "investigation": request.investigation,
        "capacity": request.capacity,
        "proposed_on": request.proposed_on.isoformat(),
        "nature": request.nature,
        "guidance": request.guidance,
        "guidance_text": request.guidance_text,
        "issues": request.issues,
        "decided_as": request.decided_as,
        "plan": request.plan,
        "debrief_wanted": None
        if request.debrief_wanted is None
        else ("yes" if request.debrief_wanted else "no"),
        "reason": request.reason,
    }
    return {k: v for k, v in values.items() if v is not None}


def _audit(
    session: Session, actor: Person, request: VisitRequest, surface: str, action: str, now: datetime
) -> None:
    record_access(
        session=session, person=actor, case=None, surface=surface, action=action,
        purpose="visit", now=now, detail=f"visit {request.reference}",
    )  # fmt: skip


def _send(
    pack: Pack, session: Session, request: VisitRequest, kind: str, people: Iterable[Person], now: datetime
) -> None:
    """Send the card `kind` about `request` to `people`, each once."""
    for person in people:
        queue(
            pack,
            session=session,
            kind=kind,
            recipient=person,
            slot=now,
            payload=card_values(request),
            now=now,
            key=f"visit:r{request.id}:{kind}:{person.id}",
        )


def audit_view(session: Session, actor: Person, request: VisitRequest, surface: str, now: datetime) -> None:
    """Record that `actor` looked at `request`."""
    _audit(session, actor, request, surface, "view", now)


# --- steps ----------------------------------------------------------------------------------------


def _visit_start(pack: Pack, day: date) -> datetime:
    return to_utc(datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(pack.meta.timezone)))


def _due(pack: Pack, spec: VisitStepSpec, request: VisitRequest, now: datetime) -> datetime:
    if spec.counted_from == "opened":
        start = now
    else:
        start = _visit_start(pack, request.proposed_on)
        if spec.before_visit_hours is not None:
            return start - timedelta(hours=spec.before_visit_hours)
    meta = pack.meta
    return due_at(spec.due, start=start, timezone=meta.timezone, calendar=meta.bank_holidays)


def _open_step(pack: Pack, session: Session, request: VisitRequest, code: str, now: datetime) -> VisitStep:
    """Open step `code` of `request`, owned as the pack says, due by its clock."""
    spec = _visits(pack).steps[code]
    due = _due(pack, spec, request, now)
    step = VisitStep(
        request_id=request.id,
        code=code,
        owner_role=spec.owner,
        owner_id=request.visitor_id if spec.owner == "visitor" else None,
        **change_point(new_clock(spec, due), Open(due), now=now),
    )
    session.add(step)
    session.flush()
    if spec.remind_before_due_hours is not None:
        first = max(now, due - timedelta(hours=spec.remind_before_due_hours))
        move_step(pack, session=session, step=step, change=Snooze(first), now=now)
    return step


def move_step(pack: Pack, *, session: Session, step: VisitStep, change: PointChange, now: datetime) -> bool:
    """Apply `change` to `step` (a plan point's clock); a step done withdraws its queued reminders."""
    columns = change_point(clock_of(step, _visits(pack).steps.get(step.code)), change, now=now)
    for name, value in columns.items():
        setattr(step, name, value)
    if isinstance(change, Close):
        for row in store.pending_step_messages(session=session, step_id=step.id):
            withdraw(row)
    return bool(columns)


def _step(request: VisitRequest, code: str) -> VisitStep | None:
    return next((s for s in request.steps if s.code == code), None)


def _workable(
    pack: Pack,
    session: Session,
    request: VisitRequest,
    code: str,
    actor: Person,
    roles: tuple[str, ...],
    surface: str,
    now: datetime,
) -> VisitStep | Refused:
    """The open step `code` if `actor` may do it, else why not (audited).

    `actor` may when they hold one of `roles` (or the pack's stand-in for a role the visitor holds)
    and are not the visitor, who may only do the visitor's own steps: nobody decides their own visit.
    """
    own = actor.id == request.visitor_id
    stand_ins = _visits(pack).stand_ins
    allowed = set(roles) | {stand_ins[r] for r in roles if r in stand_ins and _holds(request.visitor, r)}
    permitted = own if "visitor" in roles else not own and any(_holds(actor, r) for r in allowed)
    if not permitted:
        _audit(session, actor, request, surface, "denied", now)
        return "denied"
    step = _step(request, code)
    if step is None or step.status != "open":
        return "already"
    return step


def _done(
    pack: Pack, session: Session, request: VisitRequest, step: VisitStep, actor: Person | None, kind: str,
    now: datetime, **detail: Any,
) -> None:  # fmt: skip
    move_step(pack, session=session, step=step, change=Close("done", actor.id if actor else None), now=now)
    store.add_visit_event(
        session=session, request=request, kind=kind, actor=actor, now=now, step=step.code, **detail
    )
    _still_wait(pack, session, request, kind, now)


def _still_wait(pack: Pack, session: Session, request: VisitRequest, kind: str, now: datetime) -> None:
    """After a step the pack names, tell a visitor still awaiting permission not to visit yet.

    Keyed as the waiting step's own messages: one per step, withdrawn unsent once permission is
    decided (a card saying "not decided yet" must not arrive after the decision).
    """
    waiting = _step(request, "await_permission")
    if kind not in _visits(pack).remind_visitor_after or waiting is None or waiting.status != "open":
        return
    queue(
        pack, session=session, kind=CARD_OF_STEP["await_permission"], recipient=request.visitor, slot=now,
        payload=card_values(request), now=now,
        key=f"{store.STEP_KEY.format(step_id=waiting.id)}after:{kind}:{request.visitor_id}",
    )  # fmt: skip


#: What each button of a card does: the step it is for, and the roles that may do it.
ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "seek_guidance": ("guidance_sought", (CHIEF_EXECUTIVE,)),
    "no_concerns": ("guidance_given", (LIAISON,)),
    "concerns": ("guidance_given", (LIAISON,)),
    "record_issues": ("issues_discussed", (CHIEF_EXECUTIVE,)),
    "approve": ("decision", (COMMISSIONER, CHIEF_EXECUTIVE)),
    "decline": ("decision", (COMMISSIONER, CHIEF_EXECUTIVE)),
    "debrief": ("debrief", ("visitor",)),
}


def check_step(
    pack: Pack,
    *,
    session: Session,
    actor: Person,
    request: VisitRequest,
    action: str,
    surface: str,
    now: datetime,
) -> Outcome:
    """Whether the step a button is for is open and `actor`'s to do (asked before any question)."""
    if action not in ACTIONS:
        return "not_found"
    code, roles = ACTIONS[action]
    step = _workable(pack, session, request, code, actor, roles, surface, now)
    return step if isinstance(step, str) else "open"


# --- the protocol ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Briefing:
    """What the visitor tells the Chief Executive (seed 004, 7): whom, why, in what capacity, when."""

    visitee: str
    investigation: str
    nature: str
    capacity: str
    proposed_on: date


def request_visit(
    pack: Pack, *, session: Session, visitor: Person, briefing: Briefing, submission_key: str, surface: str,
    now: datetime,
) -> tuple[VisitRequest | None, bool]:  # fmt: skip
    """Record a request, brief the Chief Executive, and start reminding the visitor to wait.

    Returns the request and whether it is new (a double-clicked confirmation returns the first);
    None when `visitor` holds none of the visitor roles.
    """
    if not may_request(pack, visitor):
        return None, False
    existing = store.visit_by_submission(session=session, submission_key=submission_key)
    if existing is not None:
        return existing, False
    request = store.add_visit_request(
        session=session, visitor=visitor, submission_key=submission_key, visitee=briefing.visitee,
        investigation=briefing.investigation, nature=briefing.nature, capacity=briefing.capacity,
        proposed_on=briefing.proposed_on, now=now,
    )  # fmt: skip
    store.add_visit_event(
        session=session, request=request, kind="visit_requested", actor=visitor, now=now,
        investigation=briefing.investigation, capacity=briefing.capacity,
    )  # fmt: skip
    _audit(session, visitor, request, surface, "create", now)
    _open_step(pack, session, request, "guidance_sought", now)
    _open_step(pack, session, request, "await_permission", now)
    session.refresh(request)
    _send(pack, session, request, "visit_briefing", recipients(pack, session, request, CHIEF_EXECUTIVE), now)
    return request, True


def seek_guidance(
    pack: Pack, *, session: Session, actor: Person, request: VisitRequest, surface: str, now: datetime
) -> Outcome:
    """The Chief Executive asks the force's liaison for the force's guidance."""
    step = _workable(pack, session, request, "guidance_sought", actor, (CHIEF_EXECUTIVE,), surface, now)
    if isinstance(step, str):
        return step
    liaisons = recipients(pack, session, request, LIAISON)
    if not liaisons:
        return "no_liaison"
    _done(pack, session, request, step, actor, "guidance_sought", now)
    request.status = "guidance_sought"
    _audit(session, actor, request, surface, "update", now)
    _open_step(pack, session, request, "guidance_given", now)
    _send(pack, session, request, "visit_guidance_ask", liaisons, now)
    return "sought"


def give_guidance(
    pack: Pack, *, session: Session, actor: Person, request: VisitRequest, guidance: str, text: str | None,
    surface: str, now: datetime,
) -> Outcome:  # fmt: skip
    """The force's liaison answers: no concerns or concerns, in their own words (guidance only)."""
    step = _workable(pack, session, request, "guidance_given", actor, (LIAISON,), surface, now)
    if isinstance(step, str):
        return step
    request.guidance, request.guidance_text, request.status = guidance, text or None, "guidance_given"
    _done(pack, session, request, step, actor, "guidance_given", now, guidance=guidance)
    _audit(session, actor, request, surface, "update", now)
    _open_step(pack, session, request, "issues_discussed", now)
    _send(pack, session, request, "visit_guidance", recipients(pack, session, request, CHIEF_EXECUTIVE), now)
    return "given"


def record_issues(
    pack: Pack,
    *,
    session: Session,
    actor: Person,
    request: VisitRequest,
    issues: str,
    surface: str,
    now: datetime,
) -> Outcome:
    """The Chief Executive records the issues discussed with the visitor; the decision is next."""
    step = _workable(pack, session, request, "issues_discussed", actor, (CHIEF_EXECUTIVE,), surface, now)
    if isinstance(step, str):
        return step
    request.issues, request.status = issues, "issues_recorded"
    _done(pack, session, request, step, actor, "issues_recorded", now)
    _audit(session, actor, request, surface, "update", now)
    _open_step(pack, session, request, "decision", now)
    return "recorded"


def refer(
    pack: Pack, *, session: Session, actor: Person, request: VisitRequest, surface: str, now: datetime
) -> Outcome:
    """The Chief Executive puts the request to the Commissioner, with the briefing and advice."""
    step = _workable(pack, session, request, "decision", actor, (CHIEF_EXECUTIVE,), surface, now)
    if isinstance(step, str):
        return step
    commissioners = recipients(pack, session, request, COMMISSIONER)
    if not commissioners:
        return "no_commissioner"
    request.status = "referred"
    store.add_visit_event(session=session, request=request, kind="visit_referred", actor=actor, now=now)
    _still_wait(pack, session, request, "visit_referred", now)
    _audit(session, actor, request, surface, "update", now)
    _send(pack, session, request, "visit_decide", commissioners, now)
    return "referred"


def decide(
    pack: Pack, *, session: Session, actor: Person, request: VisitRequest, approve: bool, plan: str | None,
    debrief_wanted: bool, reason: str | None, surface: str, now: datetime,
) -> Outcome:  # fmt: skip
    """Permission and plan, or a refusal with its reason, by the Commissioner or the Chief
    Executive acting for them (recorded as such); the visitor is told either way."""
    step = _workable(pack, session, request, "decision", actor, (COMMISSIONER, CHIEF_EXECUTIVE), surface, now)
    if isinstance(step, str):
        return step
    decided_as = DECIDED_AS[COMMISSIONER if _holds(actor, COMMISSIONER) else CHIEF_EXECUTIVE]
    request.decided_by, request.decided_as, request.decided_at = actor, decided_as, now
    if approve:
        request.status, request.plan, request.debrief_wanted = "approved", plan, debrief_wanted
    else:
        request.status, request.reason = "declined", reason
    outcome = "approved" if approve else "declined"
    _done(pack, session, request, step, actor, f"visit_{outcome}", now, decided_as=decided_as)
    waiting = _step(request, "await_permission")
    if waiting is not None and waiting.status == "open":
        move_step(pack, session=session, step=waiting, change=Close("done", None), now=now)
    _audit(session, actor, request, surface, "update", now)
    _send(pack, session, request, f"visit_{outcome}", [request.visitor], now)
    if approve and debrief_wanted:
        _open_step(pack, session, request, "debrief", now)
    return outcome


def record_debrief(
    pack: Pack,
    *,
    session: Session,
    actor: Person,
    request: VisitRequest,
    text: str,
    surface: str,
    now: datetime,
) -> Outcome:
    """The visitor's debrief after the visit; the Chief Executive is told it is in."""
    step = _workable(pack, session, request, "debrief", actor, ("visitor",), surface, now)
    if isinstance(step, str):
        return step
    request.debrief, request.debriefed_at, request.status = text, now, "debriefed"
    _done(pack, session, request, step, actor, "visit_debriefed", now)
    _audit(session, actor, request, surface, "update", now)
    _send(pack, session, request, "visit_debriefed", recipients(pack, session, request, CHIEF_EXECUTIVE), now)
    return "recorded"


def step_message(step: VisitStep) -> dict[str, Any]:
    """The payload of a step's reminder or escalation: the card's values and the step's clock."""
    return {
        **card_values(step.request),
        "step": step.code,
        "card": CARD_OF_STEP[step.code],
        "owner": step.owner_role,
        "due": step.due_at.isoformat(),
    }
