"""Points the bot sees done close themselves, with the evidence on the timeline and where shown.

Through the router, the sweep and delivery, as a supervisor, an IO, a leader and a victim meet it.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.cases import service
from bot.conversation import RuntimePort
from bot.reminders.delivery import DeliveryReport, take_for_console
from bot.runtime import Runtime
from dialogs.loader import bundled_pack_dir
from dialogs.notices import payload_cases
from dialogs.render import fill, point_title
from store.models import CaseEvent, Nudge, Person, PlanPoint
from store.people import ensure_identity
from tests.bot.helpers import IO, LEADER, SUPERVISOR, VICTIM, add_leader, deliverer, point, report, sweep
from tests.channel import Conversation, FakePush, keys
from tests.conftest import START, FakeClock, make_runtime

HOUR = timedelta(hours=1)
#: The decision_explained point completed by the victim's decision notice.
TELLS = "    completed_by: {delivered: victim_decision, to: victim}\n    #"
DAY = timedelta(days=1)


def on_slack(runtime: Runtime, email: str) -> None:
    with runtime.sessions.begin() as session:
        person = session.scalar(select(Person).where(Person.email == email))
        assert person is not None
        ensure_identity(
            session=session, person=person, channel="slack", tenant="T0FORCE", user_id=f"U{person.id}",
            now=runtime.clock(),
        )  # fmt: skip


def deliver(runtime: Runtime, slack: FakePush) -> DeliveryReport:
    return asyncio.run(deliverer(runtime, {"slack": slack}).run_once())


def assign_io(runtime: Runtime, reference: str) -> None:
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    for text in ("my cases", reference, "assign the investigating officer", IO):
        supervisor.say(text)
    assert keys(supervisor.last)[0] == "strings.io_assigned"


def decide(runtime: Runtime, reference: str, decision: str, when: str) -> None:
    io = Conversation(RuntimePort(runtime), IO)
    io.say(f"update case {reference}")
    io.pick(decision)
    assert keys(io.say(when))[0] == "strings.decision_recorded"


def bot_events(runtime: Runtime) -> list[dict[str, object]]:
    with runtime.sessions() as session:
        rows = session.scalars(
            select(CaseEvent).where(CaseEvent.kind == "point_done_by_bot").order_by(CaseEvent.id)
        )
        return [{**e.detail, "actor": e.actor_id} for e in rows]


def person_id(runtime: Runtime, email: str) -> int:
    with runtime.sessions() as session:
        found = session.scalar(select(Person.id).where(Person.email == email))
        assert found is not None
        return found


def name(runtime: Runtime, email: str) -> str:
    with runtime.sessions() as session:
        found = session.scalar(select(Person).where(Person.email == email))
        assert found is not None
        return found.name


def shown(runtime: Runtime, email: str, reference: str, title: str) -> str:
    """What the case's page says of the point titled `title`."""
    viewer = Conversation(RuntimePort(runtime), email)
    viewer.say("my cases")
    replies = viewer.say(reference)
    return next(f.value for r in replies for f in r.facts if f.label == title)


def listed(runtime: Runtime, code: str) -> list[tuple[str, str, str, bool]]:
    """(kind, status, recipient, asks them to assign someone) of each outbox row listing a `code` point."""
    with runtime.sessions() as session:
        ids = set(session.scalars(select(PlanPoint.id).where(PlanPoint.code == code)))
        return [
            (row.kind, row.status, row.recipient.email, bool(entry.get("unassigned")))
            for row in session.scalars(select(Nudge))
            for case in payload_cases(row.payload)
            for entry in case.get("points", [])
            if entry.get("point") in ids
        ]


def test_assigning_the_io_completes_investigator_assigned(runtime: Runtime) -> None:
    reference = report(runtime)
    assign_io(runtime, reference)
    done = point(runtime, reference, "investigator_assigned")
    assert (done.status, done.done_by_id) == ("done", None)
    assert bot_events(runtime) == [
        {
            "point": "investigator_assigned",
            "instance": 1,
            "point_id": done.id,
            "evidence": "investigator_assigned",
            "person": person_id(runtime, IO),
            "actor": None,
        }
    ]
    spec = runtime.pack.plan.point("investigator_assigned")
    assert spec is not None
    line = shown(runtime, SUPERVISOR, reference, spec.title)
    assert fill(runtime.pack, "strings.evidence_investigator_assigned", name=name(runtime, IO)) in line


def test_the_slt_notice_delivered_completes_slt_informed(runtime: Runtime, clock: FakeClock) -> None:
    add_leader(runtime)
    on_slack(runtime, LEADER)
    reference = report(runtime)
    assert point(runtime, reference, "slt_informed").status == "open"  # queued is not told
    clock.advance(minutes=5)
    assert deliver(runtime, FakePush()).sent == 1
    told = point(runtime, reference, "slt_informed")
    assert (told.status, told.done_by_id, told.done_at) == ("done", None, clock.now)
    [event] = bot_events(runtime)
    assert (event["evidence"], event["person"], event["point_id"]) == (
        "slt_new_case",
        person_id(runtime, LEADER),
        told.id,
    )
    spec = runtime.pack.plan.point("slt_informed")
    assert spec is not None
    line = shown(runtime, SUPERVISOR, reference, spec.title)
    assert fill(runtime.pack, "strings.evidence_slt_new_case", name=name(runtime, LEADER)) in line


def test_an_slt_notice_shown_in_the_console_completes_slt_informed(runtime: Runtime) -> None:
    add_leader(runtime)  # no push channel: the notice waits for them in the console
    reference = report(runtime)
    shown_now = take_for_console(
        runtime.pack, sessions=runtime.sessions, person_id=person_id(runtime, LEADER), now=runtime.clock()
    )
    assert keys(shown_now) == ["strings.slt_new_case"]
    assert point(runtime, reference, "slt_informed").status == "done"


def test_a_failure_to_complete_never_loses_the_delivery(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    add_leader(runtime)
    on_slack(runtime, LEADER)
    reference = report(runtime)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(service, "complete_on_evidence", broken)
    slack = FakePush()
    assert deliver(runtime, slack).sent == 1
    assert deliver(runtime, slack).sent == 0 and len(slack.sent) == 1  # recorded: never sent twice
    assert point(runtime, reference, "slt_informed").status == "open"
    assert "completing its points failed" in caplog.text


def test_telling_the_forces_spoc_does_not_inform_the_local_leadership(runtime: Runtime) -> None:
    spoc = "insp.op.hampshire@example.police.uk"
    add_leader(runtime, spoc, area=None, role="spoc")  # the area has no leadership team on the bot
    on_slack(runtime, spoc)
    reference = report(runtime)
    assert deliver(runtime, FakePush()).sent == 1
    assert point(runtime, reference, "slt_informed").status == "open"


def test_an_slt_notice_not_delivered_completes_nothing(runtime: Runtime) -> None:
    add_leader(runtime)
    on_slack(runtime, LEADER)
    reference = report(runtime)
    assert deliver(runtime, FakePush(script=["503"])).retrying == 1
    assert point(runtime, reference, "slt_informed").status == "open"
    assert bot_events(runtime) == []


@pytest.fixture
def naming_runtime(engine: Engine, clock: FakeClock, tmp_path: Path) -> Runtime:
    """A force whose decision notice names the decision, and lets its delivery tell the victim."""
    folder = tmp_path / "pack"
    shutil.copytree(bundled_pack_dir(), folder)
    for name, old, new in (
        ("pack.yaml", "decision_detail_to_victim: false", "decision_detail_to_victim: true"),
        ("plan.yaml", "    # Not completed by the bot's notice", TELLS),
    ):  # fmt: skip
        path = folder / name
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return make_runtime(engine, clock, pack_dir=folder)


def test_each_decisions_notice_completes_its_own_point(naming_runtime: Runtime) -> None:
    runtime = naming_runtime
    reference = report(runtime)
    assign_io(runtime, reference)
    on_slack(runtime, VICTIM)
    decide(runtime, reference, "arrest", "today 07:00")
    decide(runtime, reference, "bail", "today 08:00")
    # Oldest slot first: the arrest's notice arrives, the bail's fails for now.
    report_ = deliver(runtime, FakePush(script=["sent", "503"]))
    # And the victim's "your officer" notice and their leaflet (point 10).
    assert (report_.sent, report_.retrying) == (3, 1)
    assert point(runtime, reference, "decision_explained", 1).status == "done"
    assert point(runtime, reference, "decision_explained", 2).status == "open"
    assert [e["instance"] for e in bot_events(runtime) if e["point"] == "decision_explained"] == [1]


def test_a_notice_that_does_not_name_the_decision_tells_the_victim_nothing(runtime: Runtime) -> None:
    """The bundled pack's notice says only that the officer will be in touch: the point stays the IO's."""
    reference = report(runtime)
    assign_io(runtime, reference)
    on_slack(runtime, VICTIM)
    decide(runtime, reference, "arrest", "today 07:00")
    # The leaflet, "your officer" and "a decision was recorded".
    assert deliver(runtime, FakePush()).sent == 3
    assert point(runtime, reference, "decision_explained").status == "open"
    assert [e for e in bot_events(runtime) if e["point"] == "decision_explained"] == []


def test_without_consent_the_io_tells_the_victim_themselves(runtime: Runtime) -> None:
    reference = report(runtime, consent="no")
    assign_io(runtime, reference)
    on_slack(runtime, VICTIM)
    decide(runtime, reference, "arrest", "today 07:00")
    deliver(runtime, FakePush())
    assert point(runtime, reference, "decision_explained").status == "open"


def test_nobody_is_told_to_assign_an_io_once_one_is(runtime: Runtime, clock: FakeClock) -> None:
    """The reported case: the IO assigned, then reminders and escalations about it all the same."""
    add_leader(runtime)
    on_slack(runtime, LEADER)
    reference = report(runtime)
    on_slack(runtime, SUPERVISOR)
    deliver(runtime, FakePush())  # the leaders are told of the case: slt_informed is done
    # A week on, nobody has assigned an IO: reminders and escalations are queued, not yet sent.
    sweep(runtime, START + 7 * DAY + HOUR)
    assert ("nudge", "pending", SUPERVISOR, True) in listed(runtime, "vps_offered")
    assert {("nudge", "pending", SUPERVISOR, False), ("escalation", "pending", LEADER, False)} <= set(
        listed(runtime, "investigator_assigned")
    )
    clock.now = START + 7 * DAY + 2 * HOUR
    assign_io(runtime, reference)
    slack = FakePush()
    deliver(runtime, slack)
    sweep(runtime, START + 10 * DAY)
    deliver(runtime, slack)
    # What went out names neither point, and nobody was asked to assign an IO.
    texts = [reply.text for _, _, replies in slack.sent for reply in replies]
    for code in ("investigator_assigned", "slt_informed"):
        assert not [text for text in texts if point_title(runtime.pack, code) in text]
    to_io = [
        status for kind, status, whom, _ in listed(runtime, "vps_offered") if (kind, whom) == ("nudge", IO)
    ]
    assert to_io and "withdrawn" not in to_io  # the IO's own point goes to the IO now
    sent = [reply.key for _, _, replies in slack.sent for reply in replies]
    assert "strings.nudge_unassigned" not in sent
