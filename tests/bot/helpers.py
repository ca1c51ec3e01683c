"""Opening cases and inspecting the outbox, for the scheduler's tests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.channels.outbound import Channel
from bot.conversation import RuntimePort
from bot.reminders.delivery import Deliverer
from bot.reminders.sweep import SweepReport, run_sweep
from bot.runtime import Runtime
from dialogs.notices import nudge_step
from dialogs.types import ChoicePick, Reply
from store.cases import find_case
from store.models import Case, Nudge, Person, PlanPoint
from store.people import add_role, ensure_person
from tests.channel import Conversation, keys

SUPERVISOR = "sgt.ravi.kaur@example.police.uk"
VICTIM = "pc.amy.hart@example.police.uk"
IO = "sgt.tom.reid@example.police.uk"
LEADER = "supt.lou.grant@example.police.uk"


def report(
    runtime: Runtime,
    *,
    victim: str = VICTIM,
    kind: str = "spitting",
    hate: bool = False,
    hospital: bool = False,
    area: str = "coventry",
    consent: str = "yes",
    witnesses: str = "none",
    arrested: str = "no",
    occurred: str = "2 hours ago",
    role: str = "officer",
    association: str | None = None,
    tell_association: str = "no",
) -> str:
    """Report an assault through the router; returns the case reference."""
    answers = [victim] + ([role] if _known(runtime, victim) else ["yes", role])
    answers += [occurred, "Broad Street", area, kind]
    if kind != "hate_crime":
        answers.append("yes" if hate else "no")
    if hate or kind == "hate_crime":
        answers.append("race")
    answers += ["moderate", "Bruised ribs", "hospital", "yes"] if hospital else ["none"]
    answers += [arrested, "skip", witnesses, "ok", "nothing", "none", consent]
    # Point 9: the association (asked for staff and special constables), and telling it.
    answers += [association] if association else []
    answers += [] if role == "volunteer" or association == "none" else [tell_association]
    return submit_report(runtime, answers)


def submit_report(runtime: Runtime, answers: list[str], reporter: str = SUPERVISOR) -> str:
    """Answer the report flow with `answers` in order and confirm; returns the case reference."""
    supervisor = Conversation(RuntimePort(runtime), reporter)
    supervisor.say("report assault")
    for text in answers:
        supervisor.say(text)
    assert keys(supervisor.last) == ["strings.summary_intro"], keys(supervisor.last)
    replies = supervisor.pick("confirm")
    # A repeat victim is flagged first (the victim of an earlier case within the pack's window).
    opened = [r for r in replies if r.key == "strings.case_opened"]
    assert opened and keys(replies)[0] in ("strings.case_opened", "strings.repeat_victim_flag")
    return opened[0].text.split()[1]


def _known(runtime: Runtime, email: str) -> bool:
    with runtime.sessions() as session:
        return session.scalar(select(Person).where(Person.email == email)) is not None


def sweep(runtime: Runtime, now: datetime) -> SweepReport:
    return run_sweep(runtime.pack, sessions=runtime.sessions, now=now)


def outbox(runtime: Runtime) -> list[tuple[str, str, str | None, datetime]]:
    """Queued points as (kind, recipient email, point code, not before), in order.

    A grouped message gives one tuple per point it lists (`unassigned` for an IO point shown to
    the supervisor); a message about no point gives one, with code None.
    """
    found: list[tuple[str, str, str | None, datetime]] = []
    for row, email in _rows(runtime):
        points = [p for case in row.payload.get("cases", []) for p in case["points"]]
        for p in points:
            found.append(
                ("unassigned" if p.get("unassigned") else row.kind, email, p["code"], row.not_before)
            )
        if not points:
            found.append((row.kind, email, None, row.not_before))
    return found


def messages(runtime: Runtime) -> list[tuple[str, str, list[tuple[str, str, int]]]]:
    """Queued messages as (kind, recipient email, [(case reference, point code, instance)]), in order."""
    return [
        (
            row.kind,
            email,
            [
                (c["reference"], p["code"], p["instance"])
                for c in row.payload.get("cases", [])
                for p in c["points"]
            ],
        )
        for row, email in _rows(runtime)
    ]


def _rows(runtime: Runtime) -> list[tuple[Nudge, str]]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(Nudge, Person.email).join(Person, Nudge.recipient_id == Person.id).order_by(Nudge.id)
        )
        return [(n, email) for n, email in rows]


def point(runtime: Runtime, reference: str, code: str, instance: int = 1) -> PlanPoint:
    with runtime.sessions() as session:
        case = find_case(session=session, reference=reference)
        assert case is not None
        return next(p for p in case.points if p.code == code and p.instance == instance)


def case(runtime: Runtime, reference: str) -> Case:
    with runtime.sessions() as session:
        found = find_case(session=session, reference=reference)
        assert found is not None
        return found


def add_leader(
    runtime: Runtime, email: str = LEADER, area: str | None = "coventry", role: str = "slt"
) -> None:
    with runtime.sessions.begin() as session:
        person = ensure_person(session=session, email=email, now=runtime.clock())
        add_role(session=session, person=person, role=role, area=area)


def press(runtime: Runtime, email: str, reference: str, point_id: int, value: str) -> list[Reply]:
    """Press a nudge's button, as any channel would deliver it."""
    return Conversation(RuntimePort(runtime), email)._send(
        pick=ChoicePick(step=nudge_step(reference, point_id), value=value)
    )


def deliverer(
    runtime: Runtime, channels: dict[str, Channel], worker: str = "w1", concurrency: int = 32
) -> Deliverer:
    """A delivery worker for the runtime's outbox over `channels` (run `run_once()` on a loop)."""
    return Deliverer(
        pack=runtime.pack, sessions=runtime.sessions, clock=runtime.clock, channels=channels, worker=worker,
        concurrency=concurrency,
    )  # fmt: skip
