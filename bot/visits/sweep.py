"""The visits sweep: remind the owners of pending visit steps, and escalate those left undone.

A visit request's steps keep a plan point's clocks (`bot.cases.points`), so they are swept the same
way: each due step's reminder is queued to its owner with its card again, and a step still open
past its escalation time is put to whoever the pack's `escalate_to` names (the Commissioner when
the Chief Executive has not acted). Escalations are grouped as the plan's are: one message per
recipient per sweep, listing every step escalated to them. One transaction; a sweep run twice
queues nothing twice.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.cases.points import Sweep
from bot.reminders.queue import queue
from bot.visits.service import move_step, recipients, step_message
from dialogs.schema import Pack
from store.models import Person, VisitStep
from store.visits import STEP_KEY, add_visit_event, due_steps

__all__ = ["VisitSweepReport", "sweep_visits"]

log = logging.getLogger(__name__)


@dataclass
class VisitSweepReport:
    """What one visits sweep did: steps looked at, reminders queued, steps escalated."""

    steps: int = 0
    reminded: int = 0
    escalated: int = 0
    escalations: int = 0


@dataclass
class _Escalations:
    """The steps escalated to each person in one sweep: one message each, sent at the end."""

    people: dict[int, Person] = field(default_factory=dict)
    steps: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, person: Person, step: dict[str, Any]) -> None:
        self.people[person.id] = person
        self.steps.setdefault(person.id, []).append(step)


def sweep_visits(pack: Pack, *, sessions: sessionmaker[Session], now: datetime) -> VisitSweepReport:
    """Queue the reminders and escalations of every visit step due by `now`."""
    report = VisitSweepReport()
    if pack.visits is None:
        return report
    with sessions.begin() as session:
        escalations = _Escalations()
        for step in due_steps(session=session, now=now):
            report.steps += 1
            _sweep_step(pack, session, step, now, report, escalations)
        for person_id, steps in escalations.steps.items():
            # Keyed by the steps it lists, so a second sweep at the same time queues nothing twice.
            listed = hashlib.sha256(repr(sorted(s["step_id"] for s in steps)).encode()).hexdigest()[:16]
            report.escalations += queue(
                pack, session=session, kind="visit_escalation", recipient=escalations.people[person_id],
                slot=now, payload={"steps": steps}, now=now,
                key=f"visit:escalation:{now.isoformat()}:{person_id}:{listed}",
            )  # fmt: skip
    return report


def _sweep_step(
    pack: Pack, session: Session, step: VisitStep, now: datetime, report: VisitSweepReport,
    escalations: _Escalations,
) -> None:  # fmt: skip
    assert pack.visits is not None
    spec = pack.visits.steps.get(step.code)
    reminders, escalated = step.nudge_count, step.escalated_at
    move_step(pack, session=session, step=step, change=Sweep(), now=now)
    request = step.request
    payload = step_message(step)
    owners = recipients(pack, session, request, step.owner_role)

    def send(kind: str, people: list[Person], slot_key: str) -> None:
        for person in people:
            queue(
                pack, session=session, kind=kind, recipient=person, slot=now, payload=payload, now=now,
                key=f"{STEP_KEY.format(step_id=step.id)}{slot_key}:{person.id}",
            )  # fmt: skip

    if step.nudge_count > reminders:
        send("visit_nudge", owners, f"nudge:{step.nudge_count}")
        report.reminded += len(owners)
    if escalated is None and step.escalated_at is not None and spec is not None and spec.escalate_to:
        chasers = [p for p in recipients(pack, session, request, spec.escalate_to) if p not in owners]
        for person in chasers:
            escalations.add(person, {**payload, "step_id": step.id})
        add_visit_event(
            session=session,
            request=request,
            kind="visit_step_escalated",
            actor=None,
            now=now,
            step=step.code,
            to=spec.escalate_to,
            people=len(chasers),
        )
        report.escalated += 1
