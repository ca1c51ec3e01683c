"""Grouped messages: one reminder per case and recipient, one escalation and digest per recipient;
nothing sent about a closed point; nobody escalated to about a point they own."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from bot.conversation import RuntimePort
from bot.reminders.sweep import ESCALATION_LINES, REMINDER_POINTS
from bot.runtime import Runtime
from dialogs.notices import notice_replies
from store.models import Case, Nudge, Person, PlanPoint
from store.people import add_role, ensure_person
from tests.bot.helpers import LEADER, SUPERVISOR, add_leader, messages, point, press, report, sweep
from tests.bot.reminders.test_delivery import deliver, on_slack
from tests.channel import Conversation, FakePush
from tests.conftest import START, FakeClock

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
SPOC = "insp.op.hampshire@example.police.uk"


def statuses(runtime: Runtime) -> Counter[str]:
    with runtime.sessions() as session:
        return Counter(session.scalars(select(Nudge.status).where(Nudge.kind == "nudge")))


def test_one_report_and_a_sweep_days_later_give_the_supervisor_one_reminder(runtime: Runtime) -> None:
    reference = report(runtime, consent="no")
    result = sweep(runtime, START + 4 * DAY)
    [(kind, email, points)] = [m for m in messages(runtime) if m[0] == "nudge"]
    assert (kind, email, result.queued) == ("nudge", SUPERVISOR, 1)
    assert {ref for ref, _, _ in points} == {reference}
    assert len(points) == len(set(points)) >= 9
    welfare = sorted(instance for _, code, instance in points if code == "welfare_contact")
    assert welfare == [1, 2]  # the first contact and its follow-up, told apart by their number


def test_each_case_gets_its_own_reminder(runtime: Runtime) -> None:
    first = report(runtime, consent="no")
    second = report(runtime, victim="pc.ben.ward@example.police.uk", consent="no")
    sweep(runtime, START + 25 * HOUR)
    reminders = [points for kind, _, points in messages(runtime) if kind == "nudge"]
    assert sorted({ref for ref, _, _ in points}.pop() for points in reminders) == sorted([first, second])


def test_escalations_come_one_per_recipient_listing_each_cases_overdue_points(runtime: Runtime) -> None:
    add_leader(runtime)
    first = report(runtime, consent="no")
    second = report(runtime, victim="pc.ben.ward@example.police.uk", consent="no")
    result = sweep(runtime, START + 48 * HOUR + timedelta(minutes=1))
    [(_, email, points)] = [m for m in messages(runtime) if m[0] == "escalation"]
    assert email == LEADER
    assert result.escalated == len(points) == 2 * 6
    assert Counter(ref for ref, _, _ in points) == Counter({first: 6, second: 6})


def test_the_digest_groups_the_overdue_points_by_case(runtime: Runtime) -> None:
    add_leader(runtime)
    first = report(runtime, consent="no")
    second = report(runtime, victim="pc.ben.ward@example.police.uk", consent="no")
    sweep(runtime, datetime(2026, 11, 25, 8, 1, tzinfo=UTC))
    with runtime.sessions() as session:
        [payload] = session.scalars(select(Nudge.payload).where(Nudge.kind == "digest")).all()
    assert sorted(case["reference"] for case in payload["cases"]) == sorted([first, second])


def test_a_point_only_the_slt_can_do_is_not_escalated_to_them(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    add_leader(runtime)
    reference = report(runtime, consent="no")
    review = point(runtime, reference, "senior_review")
    with caplog.at_level(logging.DEBUG, logger="bot.reminders.sweep"):
        result = sweep(runtime, START + 17 * DAY + HOUR)  # three days past the review's due date
    escalated = [
        (e, code) for kind, e, points in messages(runtime) if kind == "escalation" for _, code, _ in points
    ]
    assert (LEADER, "crime_recorded") in escalated  # the supervisor's points still go to the SLT
    assert "senior_review" not in {code for _, code in escalated}
    assert result.unescalated == {"coventry": 1}  # nobody else to tell: said once, in one line
    assert f"point {review.id} " in caplog.text  # and, for debugging, by id
    assert point(runtime, reference, "senior_review").escalated_at is not None  # and not retried


def test_a_point_the_slt_own_escalates_to_the_spoc(runtime: Runtime) -> None:
    add_leader(runtime)
    add_leader(runtime, SPOC, area=None, role="spoc")
    report(runtime, consent="no")
    sweep(runtime, START + 17 * DAY + HOUR)
    escalated = {
        (e, code) for kind, e, points in messages(runtime) if kind == "escalation" for _, code, _ in points
    }
    assert (SPOC, "senior_review") in escalated and (LEADER, "senior_review") not in escalated
    assert (LEADER, "crime_recorded") in escalated and (SPOC, "crime_recorded") not in escalated


def test_a_closed_point_is_left_out_when_the_reminder_is_sent(runtime: Runtime, clock: FakeClock) -> None:
    reference = report(runtime, consent="no")
    on_slack(runtime)
    clock.now = START + 25 * HOUR
    sweep(runtime, clock.now)
    leaflet = point(runtime, reference, "leaflet_given")
    assert press(runtime, SUPERVISOR, reference, leaflet.id, "done")[0].key == "strings.point_marked_done"
    assert statuses(runtime) == Counter({"pending": 1})  # six points still to remind
    slack = FakePush()
    assert deliver(runtime, slack).sent == 1
    [(_, _, replies)] = slack.sent
    assert [r.key for r in replies] == ["strings.nudge"] + ["strings.nudge_point"] * 6
    assert not any(f"/{leaflet.id}/" in (r.step or "") for r in replies)


def test_a_reminder_whose_points_all_closed_is_withdrawn_not_sent(runtime: Runtime, clock: FakeClock) -> None:
    report(runtime, consent="no")
    on_slack(runtime)
    clock.now = START + 25 * HOUR
    sweep(runtime, clock.now)
    # Closed elsewhere than by a button (by the bot, say): delivery reads them again as it sends.
    with runtime.sessions.begin() as session:
        session.execute(update(PlanPoint).values(status="done", done_at=clock.now, next_nudge_at=None))
    slack = FakePush()
    result = deliver(runtime, slack)
    assert (result.sent, result.withdrawn, slack.sent) == (0, 1, [])
    assert statuses(runtime) == Counter({"withdrawn": 1})


def test_closing_the_last_point_of_a_reminder_withdraws_it(runtime: Runtime, clock: FakeClock) -> None:
    reference = report(runtime, consent="no")
    clock.now = START + 7 * DAY + 2 * HOUR
    sweep(runtime, START + 25 * HOUR)  # the day's seven points
    [(_, _, points)] = [m for m in messages(runtime) if m[0] == "nudge"]
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    for _, code, instance in points[:-1]:
        press(runtime, SUPERVISOR, reference, point(runtime, reference, code, instance).id, "done")
    assert statuses(runtime) == Counter({"pending": 1})
    _, code, instance = points[-1]
    press(runtime, SUPERVISOR, reference, point(runtime, reference, code, instance).id, "not_applicable")
    supervisor.say("Recorded by the custody sergeant")
    assert statuses(runtime) == Counter({"withdrawn": 1})


def test_an_investigating_officer_replaced_hears_no_more_of_the_case(
    runtime: Runtime, clock: FakeClock
) -> None:
    """Found to have been present, say: their queued reminder about the case is withdrawn unsent."""
    first, second = "pc.jo.khan@example.police.uk", "pc.sam.reed@example.police.uk"
    reference = report(runtime, consent="no")
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)

    def assign(email: str) -> None:
        for text in ("my cases", reference, "assign the investigating officer", email):
            supervisor.say(text)

    assign(first)
    on_slack(runtime, first, "U0FIRST")
    clock.now = START + 8 * DAY  # the victim personal statement is due by now
    sweep(runtime, clock.now)
    assert [whom for kind, whom, _ in messages(runtime) if kind == "nudge"].count(first) == 1
    assign(second)
    slack = FakePush()
    deliver(runtime, slack)
    assert "U0FIRST" not in {user for user, _, _ in slack.sent}
    with runtime.sessions() as session:
        to_first = session.scalars(
            select(Nudge.status).join(Nudge.recipient).where(Nudge.recipient.has(email=first))
        ).all()
    assert to_first == ["withdrawn"]


def test_a_reminder_lists_at_most_what_fits_one_message(runtime: Runtime, clock: FakeClock) -> None:
    """A force's plan with many points due at once: the reminder is split, each part one message
    on Slack and Teams, so each can be updated in place as a whole."""
    reference = report(runtime, consent="no")
    crime = point(runtime, reference, "crime_recorded")
    with runtime.sessions.begin() as session:
        for instance in range(2, 2 + 30):  # thirty more points due with the day's seven
            session.add(
                PlanPoint(
                    case_id=crime.case_id, code="crime_recorded", instance=instance, owner_role="supervisor",
                    owner_id=crime.owner_id, due_at=crime.due_at, remind_at=crime.due_at,
                    next_nudge_at=crime.due_at, urgent=False, status="open",
                )
            )  # fmt: skip
    clock.now = START + 25 * HOUR
    sweep(runtime, clock.now)
    sizes = [len(points) for kind, whom, points in messages(runtime) if (kind, whom) == ("nudge", SUPERVISOR)]
    assert sorted(sizes) == [REMINDER_POINTS - 3, REMINDER_POINTS] and sum(sizes) == 37
    assert sweep(runtime, clock.now).queued == 0  # a second sweep adds nothing


#: A backlog after an outage: every point overdue past its escalation time, in many cases.
BACKLOG = 12_000


def test_a_backlog_of_overdue_points_is_one_escalation_to_the_senior_leader(runtime: Runtime) -> None:
    """Twelve sweep batches' worth of overdue points (the issue saw 40,000) become one escalation to
    the area's senior leader, listing the first ones and counting the rest, not a message each."""
    now = START + 10 * DAY
    with runtime.sessions.begin() as session:
        supervisor = ensure_person(session=session, email=SUPERVISOR, now=START)
        victim = ensure_person(session=session, email="pc.amy.hart@example.police.uk", now=START)
        leader = ensure_person(session=session, email=LEADER, now=START)
        add_role(session=session, person=leader, role="slt", area="coventry")
        ids = (supervisor.id, victim.id)
    codes = [spec.code for spec in runtime.pack.plan.points if spec.escalate_after_hours is not None][:12]
    cases = BACKLOG // len(codes)
    with runtime.sessions.begin() as session:
        session.execute(insert(Case), [backlog_case(number, *ids) for number in range(1, cases + 1)])
        session.execute(
            insert(PlanPoint),
            [
                {
                    "case_id": number, "code": code, "instance": 1, "owner_role": "supervisor",
                    "owner_id": ids[0], "due_at": START, "urgent": False, "status": "open",
                    "nudge_count": 1, "remind_at": now - HOUR, "next_nudge_at": now - HOUR,
                }
                for number in range(1, cases + 1)
                for code in codes
            ],
        )  # fmt: skip
    result = sweep(runtime, now)
    assert result.escalated == BACKLOG
    with runtime.sessions() as session:
        to_leader = session.scalars(
            select(Nudge).join(Person, Nudge.recipient_id == Person.id).where(Person.email == LEADER)
        ).all()
    assert sorted(row.kind for row in to_leader) == ["digest", "escalation"]
    [escalation] = [row for row in to_leader if row.kind == "escalation"]
    listed = sum(len(case["points"]) for case in escalation.payload["cases"])
    assert (listed, escalation.payload["more"]) == (ESCALATION_LINES, BACKLOG - ESCALATION_LINES)
    replies = notice_replies(runtime.pack, "escalation", escalation.payload, now=now)
    assert [reply.key for reply in replies] == ["strings.escalation", "strings.escalation_more"]


def backlog_case(number: int, reporter_id: int, victim_id: int) -> dict[str, object]:
    """An invented case of the backlog, as a row."""
    return {
        "id": number, "reference": f"OH-2026-{number:06d}", "submission_key": f"backlog:{number}",
        "kind": "spitting", "hate_crime": False, "enhanced_rights": False, "occurred_at": START,
        "reported_at": START, "location": "-", "area": "coventry", "injury_level": "none",
        "hospitalised": False, "suspect_arrested": "no", "victim_id": victim_id, "victim_role": "officer",
        "reporter_id": reporter_id, "consent_contact": False, "status": "open",
    }  # fmt: skip
