"""The visits sweep: remind the owners of pending visit steps, and escalate those left undone.

A visit request's steps keep a plan point's clocks (`bot.cases.points`), so they are swept the same
way: each due step's reminder is queued to its owner with its card again, and a step still open
past its escalation time is put to whoever the pack's `escalate_to` names (the Commissioner when
the Chief Executive has not acted). One transaction; a sweep run twice queues nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

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


def sweep_visits(pack: Pack, *, sessions: sessionmaker[Session], now: datetime) -> VisitSweepReport:
    """Queue the reminders and escalations of every visit step due by `now`."""
    report = VisitSweepReport()
    if pack.visits is None:
        return report
    with sessions.begin() as session:
        for step in due_steps(session=session, now=now):
            report.steps += 1
            _sweep_step(pack, session, step, now, report)
    return report


def _sweep_step(
    pack: Pack, session: Session, step: VisitStep, now: datetime, report: VisitSweepReport
) -> None:
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
        send("visit_escalation", chasers, "escalation")
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
