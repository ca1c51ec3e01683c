"""The router: one transaction per turn, resumable after a crash, safe under races, quiet in logs."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

import store.inbox
from bot.cases.effects import HANDLERS
from bot.channels.inbound import Inbound
from bot.conversation import RuntimePort
from bot.runtime import Runtime
from dialogs.effects import EFFECTS
from dialogs.types import ChoicePick
from store.audit import audit_rows
from store.models import AccessAudit, Case, DialogStateRow, InboxItem, Nudge, Person, PlanPoint, WelfareRecord
from tests.channel import Conversation, keys
from tests.conftest import FakeClock, listening

SUPERVISOR = "sgt.ravi.kaur@example.police.uk"
VICTIM = "pc.amy.hart@example.police.uk"
CANARY = "Zebracrossing-7731"  # stands for what people tell the bot; it must never reach a log

REPORT = [
    "report assault",
    VICTIM,
    "yes",
    "officer",
    "yesterday 10pm",
    f"{CANARY} street",
    "coventry",
    "physical",
    "no",
    "moderate",
    f"{CANARY} injury",
    "hospital",
    "yes",
    "no",
    "skip",
    "none",
    f"{CANARY} feels",
    "time off",
    "none",
    "yes",
    "no",
]


def to_summary(conversation: Conversation) -> None:
    for text in REPORT:
        conversation.say(text)
    assert keys(conversation.last) == ["strings.summary_intro"]


def count(runtime: Runtime, model: type) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_confirming_opens_the_case_with_its_plan(runtime: Runtime) -> None:
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    to_summary(supervisor)
    replies = supervisor.pick("confirm")
    assert keys(replies)[0] == "strings.case_opened"
    assert "OH-2026-0001" in replies[0].text
    with runtime.sessions() as session:
        case = session.scalar(select(Case))
        assert case is not None and case.hospitalised and case.victim.email == VICTIM
        codes = {p.code for p in case.points}
        assert {"chief_officer_notified_via_fim", "hospital_payment_claimed"} <= codes
        assert session.scalar(select(WelfareRecord.how_they_are)) == f"{CANARY} feels"
    assert {f.label for f in replies[0].facts} >= {"On-call chief officer notified through the FIM"}


def test_a_crash_mid_turn_saves_nothing_and_the_next_message_resumes(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    to_summary(supervisor)
    original = HANDLERS["open_case"]
    calls = {"n": 0}

    def failing_once(args: dict[str, Any], ctx: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            original(args, ctx)  # the case is written, then the process "dies"
            raise ConnectionError("database went away")
        return original(args, ctx)

    monkeypatch.setitem(HANDLERS, "open_case", failing_once)
    assert keys(supervisor.say("confirm")) == ["strings.error"]
    assert count(runtime, Case) == 0
    assert keys(supervisor.resume()) == ["strings.welcome_back", "strings.summary_intro"]
    assert keys(supervisor.say("confirm"))[0] == "strings.case_opened"
    assert count(runtime, Case) == 1


def test_a_corrupted_state_is_reset_and_the_message_still_handled(runtime: Runtime, clock: FakeClock) -> None:
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    supervisor.say("report assault")
    with runtime.sessions.begin() as session:
        row = session.scalar(select(DialogStateRow))
        assert row is not None
        row.state = '{"flow": ["not", "a", "flow"]'
    assert keys(supervisor.say("what happens next")) == [
        "strings.state_reset",
        "strings.next_overview",
        "strings.next_topics",
    ]
    with runtime.sessions() as session:
        assert session.scalar(select(DialogStateRow.quarantined)) == '{"flow": ["not", "a", "flow"]'


def test_a_pack_change_that_removes_the_step_restarts_politely(runtime: Runtime) -> None:
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    supervisor.say("report assault")
    with runtime.sessions.begin() as session:
        row = session.scalar(select(DialogStateRow))
        assert row is not None
        row.state = row.state.replace('"step":"victim_email"', '"step":"removed_step"')
    assert keys(supervisor.say(VICTIM)) == [
        "strings.flow_changed",
        "strings.report_intro",
        "strings.ask_victim_email",
    ]


def test_a_repeated_event_id_is_handled_once(runtime: Runtime) -> None:
    inbound = Inbound(
        channel="slack", tenant="T1", user_id="U1", email=SUPERVISOR, text="report assault", event_id="Ev0001"
    )
    assert keys(runtime.router.handle(inbound)) == ["strings.report_intro", "strings.ask_victim_email"]
    assert runtime.router.handle(inbound) == []


def test_a_turn_releases_held_messages_only_when_some_wait_and_asks_in_the_look_up_it_makes_anyway(
    runtime: Runtime, clock: FakeClock
) -> None:
    """Messages held for someone nobody could reach go at the next delivery once they write; the
    question rides on the turn's look-up of who is writing, so a turn of someone with nothing held
    sends no statement about it (almost every turn)."""

    def turn(event_id: str) -> list[str]:
        statements: list[str] = []

        def sent(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        inbound = Inbound(
            channel="slack", tenant="T1", user_id="U1", email=VICTIM, text="menu", event_id=event_id
        )
        with listening(runtime.engine, "before_cursor_execute", sent):
            runtime.router.answer(inbound)
        about_held = [statement for statement in statements if "nudge" in statement.lower()]
        releases = [statement for statement in about_held if statement.lstrip().upper().startswith("UPDATE")]
        # Asked in no statement but the look-up of who is writing (by their channel account).
        assert all("channel_identity" in statement for statement in about_held if statement not in releases)
        return releases

    turn("Ev1")  # the first: linked now
    assert turn("Ev2") == []  # nothing held: nothing released
    with runtime.sessions.begin() as session:
        person = session.scalars(select(Person).where(Person.email == VICTIM)).one()
        session.add(
            Nudge(
                dedupe_key="leaflet:held",
                kind="leaflet",
                recipient_id=person.id,
                due_slot=clock(),
                payload={},
                status="held",
                not_before=clock(),
                created_at=clock(),
            )
        )
    clock.advance(minutes=5)
    assert len(turn("Ev3")) == 1
    with runtime.sessions() as session:
        held = session.scalars(select(Nudge).where(Nudge.dedupe_key == "leaflet:held")).one()
        assert (held.status, held.not_before) == ("pending", clock())
    assert turn("Ev4") == []  # released: nothing held any more


def test_the_stored_work_a_turn_does_leaves_the_inbox_in_the_turns_transaction(
    runtime: Runtime, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever becomes of the turn, its work is finished exactly when something was committed for
    it (its replies, a retried event's nothing, an apology); a turn not stored leaves it waiting."""
    import bot.router
    from bot.channels.port import NotStored

    def stored(key: str) -> int:
        with runtime.sessions.begin() as session:
            item_id = store.inbox.receive(
                session=session, source="slack", key=key, payload={}, now=clock(), lease=timedelta(minutes=2)
            )
        assert item_id is not None
        return item_id

    def waiting() -> set[str]:
        with runtime.sessions() as session:
            return set(session.scalars(select(InboxItem.dedupe_key)))

    def inbound(event_id: str) -> Inbound:
        return Inbound(
            channel="slack", tenant="T1", user_id="U1", email=SUPERVISOR, text="menu", event_id=event_id
        )

    statements: list[str] = []
    listen = partial(event.listen, runtime.engine, "before_cursor_execute")
    listen(lambda conn, cursor, statement, *args: statements.append(statement.split()[0]))
    item = stored("Ev1")
    answered = runtime.router.answer(inbound("Ev1"), finishes=item)
    # Last: on PostgreSQL the deleted row stays locked to the commit, and a retried delivery being
    # stored meanwhile waits for it before Slack is answered.
    assert statements[-2:] == ["INSERT", "DELETE"]
    assert answered.replies and answered.outbox is not None and waiting() == set()
    assert runtime.router.answer(inbound("Ev1"), finishes=stored("Ev1 again")).replies == []
    assert waiting() == set()

    def unreachable(**kwargs: Any) -> None:
        raise OperationalError("UPDATE dialog_state", None, ConnectionError("server closed the connection"))

    monkeypatch.setattr(bot.router, "save_state", unreachable)
    with pytest.raises(NotStored):
        runtime.router.answer(inbound("Ev2"), finishes=stored("Ev2"))
    assert waiting() == {"Ev2"}

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(bot.router, "save_state", broken)
    assert keys(runtime.router.answer(inbound("Ev3"), finishes=stored("Ev3")).replies) == ["strings.error"]
    assert waiting() == {"Ev2"}


def test_a_failure_after_the_turn_committed_keeps_the_turn_and_loses_only_the_reminder_rewrites(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The port never raises once the turn has committed: the caller would take the turn for one
    not stored (and redo work its transaction had already finished)."""
    port = RuntimePort(runtime)

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("database went away")

    monkeypatch.setattr(port, "_updates", unavailable)
    supervisor = Conversation(port, SUPERVISOR)
    to_summary(supervisor)
    assert keys(supervisor.pick("confirm"))[0] == "strings.case_opened"  # a turn that ran effects
    assert count(runtime, Case) == 1
    assert "after a committed turn, ConnectionError" in caplog.text


def test_a_turn_says_whether_it_ran_effects(runtime: Runtime) -> None:
    """Only a turn that ran an effect can have answered a reminder (`RuntimePort` looks then alone)."""

    def answer(text: str) -> Any:
        inbound = Inbound(channel="console", tenant="", user_id=SUPERVISOR, email=SUPERVISOR, text=text)
        return runtime.router.answer(inbound)

    assert not answer("menu").acted
    assert answer("my cases").acted  # listing them is audited: an effect


def test_a_double_submitted_confirmation_opens_one_case(runtime: Runtime) -> None:
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    to_summary(supervisor)
    press = Inbound(
        channel="console",
        tenant="",
        user_id=SUPERVISOR,
        email=SUPERVISOR,
        pick=ChoicePick(step="summary", value="confirm"),
    )
    results: list[list[str]] = []

    def click() -> None:
        results.append(keys(runtime.router.handle(press)))

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert count(runtime, Case) == 1
    opened = [r for r in results if r and r[0] == "strings.case_opened"]
    assert len(opened) == 1
    assert all(r[0] in ("strings.case_opened", "strings.stale_choice") for r in results), results


def test_views_are_audited_with_the_surface(runtime: Runtime) -> None:
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR, channel="msteams", tenant="tenant-1")
    to_summary(supervisor)
    supervisor.pick("confirm")
    supervisor.say("my cases")
    supervisor.say("1")
    victim = Conversation(RuntimePort(runtime), VICTIM, channel="slack", tenant="T1")
    victim.say("what happens next")
    with runtime.sessions() as session:
        rows = [(a.action, a.surface) for a in audit_rows(session=session)]
    assert rows == [("create", "msteams"), ("list", "msteams"), ("view", "msteams"), ("view", "slack")]


def test_a_stranger_cannot_act_on_a_case(runtime: Runtime) -> None:
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    to_summary(supervisor)
    reference = supervisor.pick("confirm")[0].text.split()[1]
    stranger = Conversation(RuntimePort(runtime), "pc.nosey.parker@example.police.uk")
    assert keys(stranger.say("my cases")) == ["strings.my_cases_none", "strings.anything_else"]
    # Answered as a reference that names no case would be, so probing tells a stranger nothing.
    unknown = ["strings.case_not_found_by_reference", "strings.anything_else"]
    assert keys(stranger.say(f"update case {reference}")) == unknown
    assert keys(stranger.say("update case OH-1999-0001")) == unknown
    with runtime.sessions() as session:
        denied = session.scalars(select(AccessAudit).where(AccessAudit.action == "denied")).all()
        probed = session.scalars(select(AccessAudit).where(AccessAudit.action == "not_found")).all()
    assert [(a.surface, a.case_id is not None) for a in denied] == [("console", True)]
    assert [(a.surface, a.case_id, a.detail) for a in probed] == [("console", None, "reference OH-1999-0001")]


def test_logs_never_carry_what_people_said(
    runtime: Runtime, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    to_summary(supervisor)

    def broken(args: dict[str, Any], ctx: Any) -> Any:
        ctx.session.add(PlanPoint(case_id=999_999, code=args["location"], owner_role="x", due_at=ctx.now))
        ctx.session.flush()  # an integrity error whose statement carries the answers

    monkeypatch.setitem(HANDLERS, "open_case", broken)
    assert keys(supervisor.say("confirm")) == ["strings.error"]
    assert caplog.records, "the failure is logged"
    assert CANARY not in caplog.text
    assert VICTIM not in caplog.text


def test_every_declared_effect_is_implemented(runtime: Runtime) -> None:
    for name in EFFECTS:
        assert callable(runtime.router.effects.handler(name))
    with pytest.raises(KeyError):
        runtime.router.effects.handler("handler")


def test_a_10000_character_message_is_refused_and_nothing_is_lost(runtime: Runtime) -> None:
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    for text in REPORT[:6]:
        supervisor.say(text)
    assert keys(supervisor.say("A" * 10_000)) == ["strings.too_long", "strings.ask_area"]
    assert keys(supervisor.say("coventry")) == ["strings.ask_kind"]


def test_a_database_another_process_keeps_locked_is_not_stored_rather_than_apologised_for(
    sqlite_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's lock held past the busy timeout by another process (a command beside the server):
    the turn is not stored and the platform is told to deliver it again, never answered with an
    apology for a message that is then forgotten; the redelivery is answered."""
    import sqlite3

    from bot.channels.port import NotStored
    from tests.conftest import without_busy_timeout

    engine = sqlite_runtime.engine
    without_busy_timeout(engine)
    assert engine.url.database
    other_process = sqlite3.connect(engine.url.database, isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")
    inbound = Inbound(
        channel="slack", tenant="T1", user_id="U1", email=SUPERVISOR, text="report assault", event_id="Ev0002"
    )
    router = sqlite_runtime.router
    apologies: list[str] = []
    apologise = router._apology

    def counted(inbound: Inbound, turn_id: str, finishes: int | None) -> Any:
        apologies.append(turn_id)
        return apologise(inbound, turn_id, finishes)

    monkeypatch.setattr(router, "_apology", counted)
    try:
        with pytest.raises(NotStored):
            router.answer(inbound)
    finally:
        other_process.execute("ROLLBACK")
        other_process.close()
    assert apologies == []  # a locked database is not a turn that failed
    assert keys(sqlite_runtime.router.handle(inbound)) == ["strings.report_intro", "strings.ask_victim_email"]
