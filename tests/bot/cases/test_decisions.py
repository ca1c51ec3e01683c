"""Key decisions: the Victims' Code clocks they start, the review window, what the victim is told."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.conversation import RuntimePort
from bot.runtime import Runtime
from dialogs.notices import notice_replies
from dialogs.render import point_title
from store.models import Nudge
from tests.bot.helpers import IO, SUPERVISOR, VICTIM, case, outbox, point, report
from tests.channel import Conversation, keys
from tests.conftest import FakeClock


def assign_io(runtime: Runtime, reference: str) -> None:
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    for text in ("my cases", reference, "assign the investigating officer", IO):
        supervisor.say(text)
    assert keys(supervisor.last)[0] == "strings.io_assigned"


def decide(runtime: Runtime, reference: str, decision: str, when: str, who: str = IO) -> list[str]:
    io = Conversation(RuntimePort(runtime), who)
    assert keys(io.say(f"update case {reference}")) == ["strings.ask_decision"]
    io.pick(decision)
    return keys(io.say(when))


@pytest.mark.parametrize(
    ("now", "decided", "hate", "due"),
    [
        # Five working days over Christmas, Boxing Day (moved to Monday) and New Year's Day.
        (
            datetime(2026, 12, 24, 12, 0, tzinfo=UTC),
            "24/12/2026 10am",
            False,
            datetime(2027, 1, 5, 10, 0, tzinfo=UTC),
        ),
        # Hate crime: enhanced rights, one working day.
        (
            datetime(2026, 12, 24, 12, 0, tzinfo=UTC),
            "24/12/2026 10am",
            True,
            datetime(2026, 12, 29, 10, 0, tzinfo=UTC),
        ),
        # Across the autumn clock change: 09:00 BST on Friday, 09:00 GMT on Monday.
        (
            datetime(2026, 10, 23, 12, 0, tzinfo=UTC),
            "23/10/2026 09:00",
            True,
            datetime(2026, 10, 26, 9, 0, tzinfo=UTC),
        ),
        # Across Easter and the spring clock change: 09:00 GMT on Thursday, 09:00 BST on Tuesday.
        (
            datetime(2027, 3, 25, 12, 0, tzinfo=UTC),
            "25/3/2027 09:00",
            True,
            datetime(2027, 3, 30, 8, 0, tzinfo=UTC),
        ),
    ],
)
def test_a_decision_starts_the_clock_to_tell_the_victim(
    runtime: Runtime, clock: FakeClock, now: datetime, decided: str, hate: bool, due: datetime
) -> None:
    clock.now = now
    reference = report(runtime, hate=hate)
    assign_io(runtime, reference)
    assert decide(runtime, reference, "arrest", decided) == [
        "strings.decision_recorded",
        "strings.anything_else",
    ]
    told = point(runtime, reference, "decision_explained")
    assert (told.due_at, told.owner_role) == (due, "io")
    assert case(runtime, reference).suspect_arrested == "yes"


def test_no_further_action_opens_the_review_window_the_victim_sees(
    runtime: Runtime, clock: FakeClock
) -> None:
    reference = report(runtime)
    assign_io(runtime, reference)
    decide(runtime, reference, "no_further_action", "today 08:00")
    assert case(runtime, reference).review_until == datetime(2027, 2, 23, 8, 0, tzinfo=UTC)
    assert point(runtime, reference, "vrr_explained").due_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    replies = Conversation(RuntimePort(runtime), VICTIM).say("what happens next")
    assert replies[0].key == "strings.next_your_case"
    # The pack keeps a decision's detail from the victim (their officer calls): nothing in their
    # view says which decision it was, not even the review window that only follows from it.
    assert not runtime.pack.meta.nudges.decision_detail_to_victim
    assert "Tue 23 Feb 2027" not in replies[0].facts[0].value
    assert point_title(runtime.pack, "vrr_explained") not in replies[0].facts[0].value
    assert "Sam" not in replies[0].facts[0].value


@pytest.mark.parametrize(
    ("decision", "starts"),
    [("charge", "impact_statement_requested"), ("interview", "outcome_views_sought")],
)
def test_decisions_start_their_own_points(runtime: Runtime, decision: str, starts: str) -> None:
    reference = report(runtime)
    assign_io(runtime, reference)
    decide(runtime, reference, decision, "today 08:00")
    assert point(runtime, reference, starts).owner_role == "io"


def test_each_decision_is_its_own_instance(runtime: Runtime) -> None:
    reference = report(runtime)
    assign_io(runtime, reference)
    decide(runtime, reference, "arrest", "today 07:00")
    decide(runtime, reference, "bail", "today 08:00")
    assert point(runtime, reference, "decision_explained", 2).due_at == datetime(
        2026, 11, 30, 8, 0, tzinfo=UTC
    )


def test_the_victim_is_told_of_their_officer_and_of_a_decision_never_its_detail(runtime: Runtime) -> None:
    reference = report(runtime)
    assign_io(runtime, reference)
    decide(runtime, reference, "charge", "today 08:00")
    sent = [(k, e) for k, e, _, _ in outbox(runtime)]
    assert sent == [("victim_leaflet", VICTIM), ("victim_io", VICTIM), ("victim_decision", VICTIM)]
    with runtime.sessions() as session:
        payload = session.scalar(select(Nudge.payload).where(Nudge.kind == "victim_decision"))
    [reply] = notice_replies(runtime.pack, "victim_decision", payload or {}, now=runtime.clock())
    assert reference in reply.text and "charged" not in reply.text.lower()


def test_without_consent_the_victim_is_not_messaged(runtime: Runtime) -> None:
    reference = report(runtime, consent="no")
    assign_io(runtime, reference)
    decide(runtime, reference, "arrest", "today 08:00")
    assert [k for k, _, _, _ in outbox(runtime)] == []


def test_only_the_io_or_reporter_records_decisions(runtime: Runtime) -> None:
    reference = report(runtime)
    stranger = Conversation(RuntimePort(runtime), "pc.nosey.parker@example.police.uk")
    assert keys(stranger.say(f"update case {reference}")) == [
        "strings.case_not_found_by_reference",
        "strings.anything_else",
    ]
    assert (
        decide(runtime, reference, "arrest", "today 08:00", who=SUPERVISOR)[0] == "strings.decision_recorded"
    )


def test_a_reference_is_asked_for_when_none_was_given(runtime: Runtime) -> None:
    reference = report(runtime)
    io = Conversation(RuntimePort(runtime), SUPERVISOR)
    assert keys(io.say("record a decision")) == ["strings.ask_case_reference"]
    assert keys(io.say("the one from Tuesday")) == [
        "strings.bad_case_reference",
        "strings.ask_case_reference",
    ]
    assert keys(io.say(reference.lower())) == ["strings.ask_decision"]
    io.say("cancel")
    assert keys(io.say("update case OH-1999-0001")) == [
        "strings.case_not_found_by_reference",
        "strings.anything_else",
    ]
