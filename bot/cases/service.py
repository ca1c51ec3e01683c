"""The case service: every change to a case and its plan, for chat, CLI and scheduler alike.

Opening a case, assigning its investigating officer, closing and snoozing points, recording key
decisions and the agreed update interval all happen here, by the pack's rules; `store.cases`
only reads and writes rows. A point's state and clocks change only through `move_point` (which
asks `bot.cases.points.change_point`); a point that closes withdraws its pending reminders. Points
the bot can see done close themselves (`complete_on_evidence`), with the evidence on the timeline.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session

from bot import messages
from bot.cases import outreach
from bot.cases.answers import ReportAnswers
from bot.cases.points import Close, Open, PointChange, Reschedule, Snooze, change_point, clock_of, new_clock
from bot.reminders.queue import queue, senior_leaders, withdraw_settled
from dialogs.associations import NONE, association_of
from dialogs.clock import add_months
from dialogs.plan import IO_ASSIGNED, FactValue, PlannedPoint, case_facts, plan_for
from dialogs.schema import Pack
from store import cases as case_store
from store.audit import record_access
from store.models import Case, Nudge, Person, PlanPoint
from store.outbox import withdraw_reminders
from store.people import ensure_person, people_with_role

__all__ = [
    "BOT_DONE",
    "assign_investigator",
    "bot_evidence",
    "close_point",
    "complete_on_evidence",
    "facts_of",
    "move_point",
    "note_delivered",
    "open_case",
    "owner_of",
    "record_decision",
    "record_hospital_admission",
    "repeat_count",
    "set_update_interval",
    "snooze_point",
]

log = logging.getLogger(__name__)

#: The timeline entry of a point the bot closed on evidence.
BOT_DONE = "point_done_by_bot"
#: The notice that tells the Force Incident Manager a victim is in hospital (WMP point 7).
FIM_NOTICE = "fim_hospital"
#: Who the Force Incident Manager is: people holding this role.
FIM_ROLE = "fim"
#: The timeline entry of a case whose victim had another case within the pack's window.
REPEAT_VICTIM = "repeat_victim"

Closed = Literal["done", "already", "denied", "not_found"]
Assigned = Literal["assigned", "conflict_victim", "conflict_present", "denied"]


def facts_of(case: Case) -> dict[str, FactValue]:
    """The facts of a stored case, derived by the same rules as at the report (`case_facts`)."""
    return case_facts(
        {
            "victim_role": case.victim_role,
            "kind": case.kind,
            "hate_motivated": "yes" if case.hate_crime else "no",
            "injury_level": case.injury_level,
            "hospitalised": "yes" if case.hospitalised else "no",
            "suspect_arrested": case.suspect_arrested,
            "colleagues_present": [w.person_id for w in case.witnesses],
            "association": case.association,
        }
    )


def owner_of(pack: Pack, case: Case, role: str) -> Person | None:
    """Who holds owner `role` on `case` now (None: nobody yet, or the area's leaders as a group)."""
    owner = pack.plan.owners.get(role)
    if owner is None or owner.held_by == "area_leaders":
        return None
    return case.reporter if owner.held_by == "reporter" else case.io


def _held_by(pack: Pack, role: str) -> str | None:
    owner = pack.plan.owners.get(role)
    return owner.held_by if owner else None


#: Why the service reads a case, by what it did: a refusal is a probe, anything else a change.
_PURPOSES = {"denied": "probe", "update": "case_update"}


def _audit(session: Session, person: Person, case: Case, surface: str, action: str, now: datetime) -> None:
    record_access(
        session=session,
        person=person,
        case=case,
        surface=surface,
        action=action,
        purpose=_PURPOSES[action],
        now=now,
    )


def _may(
    session: Session,
    person: Person,
    case: Case,
    allowed: Collection[str | None],
    *,
    surface: str,
    now: datetime,
) -> bool:
    """Whether `person`'s relation to `case` is `allowed`; a refusal is audited."""
    if case_store.relation(case, person) in allowed:
        return True
    _audit(session, person, case, surface, "denied", now)
    return False


# --- a point's state and clocks -------------------------------------------------------------------


def move_point(pack: Pack, *, session: Session, point: PlanPoint, change: PointChange, now: datetime) -> bool:
    """Apply `change` to `point`; True if anything changed. A point that closes withdraws its reminders."""
    columns = change_point(clock_of(point, pack.plan.point(point.code)), change, now=now)
    if not columns:
        return False
    case_store.write_point(session=session, point=point, columns=columns)
    if isinstance(change, Close):
        withdraw_reminders(session=session, point_ids=[point.id])  # rows about this point alone
        withdraw_settled(session=session, case_id=point.case_id)  # grouped rows with nothing left
    return True


def _new_points(
    pack: Pack, case: Case | None, planned: Iterable[PlannedPoint], reporter: Person
) -> list[case_store.NewPoint]:
    """Rows for planned points: owner by the pack's owner roles, clocks by `change_point`."""
    rows = []
    for point in planned:
        clock = new_clock(pack.plan.point(point.code), point.due_at)
        columns = {
            "code": point.code,
            "instance": point.instance,
            "owner_role": point.owner,
            "urgent": point.urgent,
            **change_point(clock, Open(point.due_at), now=point.due_at),
        }
        if case is not None:
            owner = owner_of(pack, case, point.owner)
        else:
            owner = reporter if _held_by(pack, point.owner) == "reporter" else None
        rows.append(case_store.NewPoint(columns=columns, owner=owner))
    return rows


def _add_points(pack: Pack, session: Session, case: Case, planned: Iterable[PlannedPoint]) -> list[PlanPoint]:
    """Add points to an open case, each continuing its code's numbering (instance 2, 3, …)."""
    added = []
    for new in _new_points(pack, case, planned, case.reporter):
        columns = dict(new.columns)
        columns["instance"] = case_store.next_instance(session=session, case=case, code=columns["code"])
        added.append(case_store.add_point(session=session, case=case, columns=columns, owner=new.owner))
    return added


# --- opening and assigning ------------------------------------------------------------------------


def open_case(
    pack: Pack,
    *,
    session: Session,
    answers: ReportAnswers,
    reporter: Person,
    submission_key: str,
    surface: str,
    now: datetime,
) -> tuple[Case, bool]:
    """Open the case a report describes with its plan, exactly once per submission; tell the SLT.

    Returns the case and whether it is new (a double-clicked confirmation returns the first).
    """
    association = association_of(pack, answers.victim_role, answers.association)
    draft = answers.draft(association=association)
    victim = ensure_person(session=session, email=draft.victim_email, now=now)
    witnesses = [ensure_person(session=session, email=e, now=now) for e in draft.colleagues_present]
    # The association as resolved (an answer left from a role changed at the summary is not).
    facts = answers.facts() | {"has_association": association != NONE}
    planned = plan_for(pack, facts, trigger="report", reported_at=now, occurred_at=answers.occurred_at)
    case, created = case_store.open_case(
        session=session,
        draft=draft,
        reporter=reporter,
        victim=victim,
        witnesses=witnesses,
        points=_new_points(pack, None, planned, reporter),
        submission_key=submission_key,
        surface=surface,
        now=now,
    )
    if created:
        repeat = _flag_repeat_victim(pack, session, case, reporter, now)
        payload: dict[str, Any] = {"reference": case.reference, **({"repeat": repeat} if repeat else {})}
        for leader in senior_leaders(session=session, area=case.area):
            queue(
                pack,
                session=session,
                kind="slt_new_case",
                recipient=leader,
                slot=now,
                payload=payload,
                now=now,
                case_id=case.id,
                key=f"slt_new_case:{case.id}:{leader.id}",
            )
        disclosure = case_store.claim_disclosure(session=session, case=case)
        if disclosure is not None and disclosure.update_interval_days:
            _apply_interval(pack, session, case, disclosure.update_interval_days, now)
        if case.suspect_arrested == "yes":
            # Arrested at the time: the Victims' Code clock runs from the arrest, as if recorded
            # then; the incident's time is the latest the arrest can have been made by.
            _apply_decision(pack, session, case, reporter, "arrest", case.occurred_at, now)
        if case.hospitalised:
            _tell_fim(pack, session, case, now)
        outreach.queue_association_notices(pack, session=session, case=case, now=now)
        outreach.queue_leaflet(pack, session=session, case=case, now=now)
    return case, created


def repeat_count(*, session: Session, case: Case) -> int:
    """How many other cases within the window made this one's victim a repeat victim (0: none)."""
    flags = case_store.events_of(session=session, case=case, kind=REPEAT_VICTIM)
    return int(flags[0].detail.get("previous", 0)) if flags else 0


def _flag_repeat_victim(pack: Pack, session: Session, case: Case, reporter: Person, now: datetime) -> int:
    """Flag a repeat victim: another case for the same person within the pack's window."""
    months = pack.meta.victims.repeat_window_months
    since = add_months(case.occurred_at, -months, timezone=pack.meta.timezone)
    previous = case_store.previous_cases(session=session, case=case, since=since)
    if previous:
        case_store.add_event(
            session=session, case=case, kind=REPEAT_VICTIM, actor=None, now=now, previous=previous
        )
    return previous


def _tell_fim(pack: Pack, session: Session, case: Case, now: datetime) -> None:
    """The victim is in hospital: tell the Force Incident Manager at once, so the on-call chief
    officer is notified (WMP point 7). With no FIM known, the point stays with the supervisor."""
    for fim in people_with_role(session=session, role=FIM_ROLE):
        queue(
            pack,
            session=session,
            kind=FIM_NOTICE,
            recipient=fim,
            slot=now,
            payload={"reference": case.reference, "area": case.area},
            now=now,
            case_id=case.id,
            urgent=True,
            key=f"{FIM_NOTICE}:{case.id}:{fim.id}",
        )


def record_hospital_admission(
    pack: Pack, *, session: Session, actor: Person, case: Case, surface: str, now: datetime
) -> tuple[Literal["recorded", "already", "denied"], list[PlanPoint]]:
    """The victim was admitted to hospital after the report: the points that follow from it (the
    chief officer told through the FIM, the hospital payment) start now, and the FIM is told."""
    if not _may(session, actor, case, ("reporter", "io"), surface=surface, now=now):
        return "denied", []
    if case.hospitalised:
        return "already", []
    case_store.set_case_fields(session=session, case=case, hospitalised=True)
    case_store.add_event(session=session, case=case, kind="hospital_admission", actor=actor, now=now)
    _audit(session, actor, case, surface, "update", now)
    have = {p.code for p in case.points}
    planned = [
        p
        for p in plan_for(
            pack, facts_of(case), trigger="report", reported_at=now, occurred_at=case.occurred_at
        )
        if p.code not in have
    ]
    added = _add_points(pack, session, case, planned)
    _tell_fim(pack, session, case, now)
    return "recorded", added


def assign_investigator(
    pack: Pack,
    *,
    session: Session,
    actor: Person,
    case: Case,
    investigator: Person,
    surface: str,
    now: datetime,
) -> Assigned:
    """Make `investigator` the case's IO, refusing the victim and anyone present (point 2).

    Only the reporting supervisor assigns. The IO's open points become theirs, nobody is asked to
    assign one any more, points completed by the assignment close, and the victim (if they
    consented) is told who their officer is.
    """
    if not _may(session, actor, case, ("reporter",), surface=surface, now=now):
        return "denied"
    if investigator.id == case.victim_id:
        return "conflict_victim"
    if any(w.person_id == investigator.id for w in case.witnesses):
        return "conflict_present"
    case_store.set_investigator(session=session, case=case, investigator=investigator)
    theirs = [p for p in case.points if _held_by(pack, p.owner_role) == "investigator"]
    for point in theirs:
        if point.status == "open":
            owner = {"owner_id": investigator.id, "owner": investigator}
            case_store.write_point(session=session, point=point, columns=owner)
    withdraw_reminders(session=session, point_ids=[p.id for p in theirs], kinds=("unassigned",))
    withdraw_settled(session=session, case_id=case.id)  # grouped reminders' "assign someone" lines
    case_store.add_event(
        session=session,
        case=case,
        kind=IO_ASSIGNED,
        actor=actor,
        now=now,
        investigator=investigator.id,
    )
    _audit(session, actor, case, surface, "update", now)
    complete_on_evidence(pack, session=session, case=case, event=IO_ASSIGNED, person=investigator, now=now)
    if case.consent_contact:
        queue(
            pack,
            session=session,
            kind="victim_io",
            recipient=case.victim,
            slot=now,
            payload={
                "reference": case.reference,
                "io_name": investigator.name,
                "io_email": investigator.email,
            },
            now=now,
            case_id=case.id,
            key=f"victim_io:{case.id}:{investigator.id}",
        )
    session.flush()
    return "assigned"


# --- working points -------------------------------------------------------------------------------


def _workable(
    session: Session, actor: Person, case: Case, point_id: int, *, surface: str, now: datetime
) -> PlanPoint | Literal["already", "denied", "not_found"]:
    """The open point `actor` may work on, or why not (a refusal is audited)."""
    if not _may(session, actor, case, case_store.WORKERS, surface=surface, now=now):
        return "denied"
    point = case_store.point_of(session=session, case=case, point_id=point_id)
    if point is None:
        return "not_found"
    return point if point.status == "open" else "already"


def close_point(
    pack: Pack,
    *,
    session: Session,
    actor: Person,
    case: Case,
    point_id: int,
    status: Literal["done", "not_applicable"],
    surface: str,
    now: datetime,
    reason: str | None = None,
) -> Closed:
    """Close a point as done or not applicable (with a reason); a recurring point comes round again."""
    point = _workable(session, actor, case, point_id, surface=surface, now=now)
    if isinstance(point, str):
        return point
    move_point(pack, session=session, point=point, change=Close(status, actor.id, reason), now=now)
    case_store.add_event(
        session=session, case=case, kind=f"point_{status}", actor=actor, now=now, point=point.code,
        instance=point.instance,
    )  # fmt: skip
    _audit(session, actor, case, surface, "update", now)
    if status == "done":
        _repeat(pack, session, case, point, now)
    return "done"


def _repeat(pack: Pack, session: Session, case: Case, point: PlanPoint, now: datetime) -> None:
    """A recurring point (victim updates) comes round again, at the interval agreed with the victim."""
    spec = pack.plan.point(point.code)
    if spec is None or spec.repeat_every_days is None or case.status != "open":
        return
    due = now + timedelta(days=case.update_interval_days or spec.repeat_every_days)
    _add_points(pack, session, case, [PlannedPoint(spec.code, 0, spec.owner, due, spec.urgent)])


def snooze_point(
    pack: Pack, *, session: Session, actor: Person, case: Case, point_id: int, surface: str, now: datetime
) -> Literal["snoozed", "already", "denied", "not_found"]:
    """Remind me later: the point's next reminder moves on by the pack's snooze time."""
    point = _workable(session, actor, case, point_id, surface=surface, now=now)
    if isinstance(point, str):
        return point
    until = now + timedelta(hours=pack.meta.nudges.snooze_hours)
    move_point(pack, session=session, point=point, change=Snooze(until), now=now)
    case_store.add_event(
        session=session, case=case, kind="point_snoozed", actor=actor, now=now, point=point.code,
        instance=point.instance,
    )  # fmt: skip
    _audit(session, actor, case, surface, "update", now)
    return "snoozed"


def record_decision(
    pack: Pack,
    *,
    session: Session,
    actor: Person,
    case: Case,
    decision: str,
    decided_at: datetime,
    surface: str,
    now: datetime,
) -> tuple[Literal["recorded", "denied"], list[PlanPoint]]:
    """Record a key decision: the points it starts (the Victims' Code clocks) and the victim's notice."""
    if not _may(session, actor, case, ("reporter", "io"), surface=surface, now=now):
        return "denied", []
    _audit(session, actor, case, surface, "update", now)
    return "recorded", _apply_decision(pack, session, case, actor, decision, decided_at, now)


def _apply_decision(
    pack: Pack,
    session: Session,
    case: Case,
    actor: Person,
    decision: str,
    decided_at: datetime,
    now: datetime,
) -> list[PlanPoint]:
    """A key decision's consequences: the case's fields, the points it starts (each with its
    Victims' Code clock from `decided_at`) and, with consent, the victim's notice."""
    rule = pack.plan.decisions.get(decision)  # type: ignore[call-overload]
    changes: dict[str, object] = {}
    if rule is not None and rule.arrests_suspect:
        changes["suspect_arrested"] = "yes"
    if rule is not None and rule.opens_review:
        months = pack.meta.nudges.review_window_months
        changes["review_until"] = add_months(decided_at, months, timezone=pack.meta.timezone)
    case_store.set_case_fields(session=session, case=case, **changes)
    case_store.add_event(
        session=session, case=case, kind="decision_recorded", actor=actor, now=now, decision=decision,
        decided_at=decided_at.isoformat(),
    )  # fmt: skip
    facts = facts_of(case)
    planned: dict[str, PlannedPoint] = {}
    for trigger in (decision, "key_decision"):
        for point in plan_for(
            pack,
            facts,
            trigger=trigger,  # type: ignore[arg-type]
            reported_at=case.reported_at,
            occurred_at=case.occurred_at,
            decided_at=decided_at,
        ):
            planned.setdefault(point.code, point)
    added = _add_points(pack, session, case, planned.values())
    if case.consent_contact:
        # The notice names the point its delivery completes (this decision's, not an earlier one's);
        # it is not the point's reminder, so it carries it in the payload, not as `point_id`.
        told = [p.id for p in added if _completed_by(pack, p, delivered="victim_decision")]
        queue(
            pack,
            session=session,
            kind="victim_decision",
            recipient=case.victim,
            slot=decided_at,
            payload={"reference": case.reference, "decision": decision, "completes": told},
            now=now,
            case_id=case.id,
            key=f"victim_decision:{case.id}:{decision}:{decided_at.isoformat()}",
        )
    return added


def set_update_interval(
    pack: Pack, *, session: Session, actor: Person, case: Case, days: int, surface: str, now: datetime
) -> tuple[Literal["set", "denied"], datetime | None]:
    """The update interval agreed with the victim (or chosen by the victim themselves); the next
    update is rescheduled to match."""
    if not _may(session, actor, case, ("reporter", "io", "victim"), surface=surface, now=now):
        return "denied", None
    case_store.add_event(
        session=session, case=case, kind="update_interval_set", actor=actor, now=now, days=days
    )
    _audit(session, actor, case, surface, "update", now)
    return "set", _apply_interval(pack, session, case, days, now)


def _apply_interval(pack: Pack, session: Session, case: Case, days: int, now: datetime) -> datetime | None:
    """Set the update interval; the open update point falls due `days` after the last update."""
    case_store.set_case_fields(session=session, case=case, update_interval_days=days)
    recurring = {s.code for s in pack.plan.points if s.repeat_every_days}
    next_due = None
    for point in case.points:
        if point.code in recurring and point.status == "open":
            last = case_store.last_done(case, point.code) or case.reported_at
            move_point(
                pack, session=session, point=point, change=Reschedule(last + timedelta(days=days)), now=now
            )
            next_due = point.due_at
    return next_due


# --- points the bot sees done ---------------------------------------------------------------------


def _completed_by(
    pack: Pack,
    point: PlanPoint,
    *,
    event: str | None = None,
    delivered: str | None = None,
    recipient: Person | None = None,
) -> bool:
    """Whether this evidence completes `point` (a notice: delivered to whom its spec says)."""
    spec = pack.plan.point(point.code)
    evidence = spec.completed_by if spec else None
    if evidence is None:
        return False
    if event is not None:
        return evidence.event == event
    if delivered is None or evidence.delivered != delivered:
        return False
    return recipient is None or evidence.to is None or _is(point.case, recipient, evidence.to)


def _is(case: Case, person: Person, holder: str) -> bool:
    """Whether `person` is the case's `holder` (victim, reporter, IO, or one of its area's leaders)."""
    if holder == "area_leaders":
        return case_store.leads_area(person, case.area)
    if holder == FIM_ROLE:
        return any(r.role == FIM_ROLE for r in person.roles)
    ids = {"victim": case.victim_id, "reporter": case.reporter_id, "investigator": case.io_id}
    return ids.get(holder) == person.id


def complete_on_evidence(
    pack: Pack,
    *,
    session: Session,
    case: Case,
    now: datetime,
    event: str | None = None,
    delivered: str | None = None,
    person: Person | None = None,
    point_ids: Iterable[int] | None = None,
    detail: Mapping[str, Any] | None = None,
) -> list[PlanPoint]:
    """Close the open points whose `completed_by` names this evidence, as done by the bot.

    `event` is something recorded through the bot (`dialogs.plan.EVIDENCE_EVENTS`); `delivered`
    the kind of a notice delivered for the case. `person` is whom the evidence is about (the IO
    assigned, the notice's recipient) and `point_ids`, when given, limits it to those points (a
    decision's notice completes that decision's point, not an earlier one). Each closed point
    gets a `point_done_by_bot` entry on the timeline naming the evidence.
    """
    closed = []
    only = set(point_ids) if point_ids is not None else None
    for point in list(case.points):
        if point.status != "open" or (only is not None and point.id not in only):
            continue
        if not _completed_by(pack, point, event=event, delivered=delivered, recipient=person):
            continue
        move_point(pack, session=session, point=point, change=Close("done", None), now=now)
        case_store.add_event(
            session=session,
            case=case,
            kind=BOT_DONE,
            actor=None,
            now=now,
            point=point.code,
            instance=point.instance,
            point_id=point.id,
            evidence=event or delivered,
            person=person.id if person else None,
            **dict(detail or {}),
        )
        closed.append(point)
    return closed


def bot_evidence(*, session: Session, case: Case) -> dict[int, tuple[str, Person | None]]:
    """For each point of `case` the bot closed: the evidence it saw, and whom that was about."""
    seen: dict[int, tuple[str, Person | None]] = {}
    for event in case_store.events_of(session=session, case=case, kind=BOT_DONE):
        person_id = event.detail.get("person")
        person = session.get(Person, person_id) if isinstance(person_id, int) else None
        seen[int(event.detail["point_id"])] = (str(event.detail.get("evidence")), person)
    return seen


def note_delivered(pack: Pack, *, session: Session, nudge: Nudge, now: datetime) -> list[PlanPoint]:
    """A message was delivered: close the points of its case that this notice completes.

    Never raises: the delivery is recorded whatever happens here (a failure is logged and rolled
    back to a savepoint, and the point stays open for a person to close).
    """
    if nudge.case_id is None:
        return []
    if not any(s.completed_by and s.completed_by.delivered == nudge.kind for s in pack.plan.points):
        return []
    try:
        with session.begin_nested():
            return _complete_delivered(pack, session, nudge, now)
    except Exception as error:
        log.error(messages.evidence_failed(nudge.id, error))
        return []


def _complete_delivered(pack: Pack, session: Session, nudge: Nudge, now: datetime) -> list[PlanPoint]:
    case = session.get(Case, nudge.case_id)
    if case is None or case.status != "open":
        return []
    recipient = session.get(Person, nudge.recipient_id)
    completes = (nudge.payload or {}).get("completes")
    return complete_on_evidence(
        pack,
        session=session,
        case=case,
        now=now,
        delivered=nudge.kind,
        person=recipient,
        point_ids=[int(i) for i in completes] if isinstance(completes, list) else None,
        detail={"nudge": nudge.id},
    )
