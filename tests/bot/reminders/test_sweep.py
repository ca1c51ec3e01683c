"""The sweep: the right nudges to the right people at the right times, escalations, digests."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from bot.conversation import RuntimePort
from bot.runtime import Runtime
from store.models import Nudge, Person
from tests.bot.helpers import (
    IO,
    LEADER,
    SUPERVISOR,
    add_leader,
    messages,
    outbox,
    point,
    press,
    report,
    sweep,
)
from tests.channel import Conversation, keys
from tests.conftest import START, FakeClock

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
SUPERVISOR_24H = {
    "crime_recorded",
    "investigator_assigned",
    "esafety_report",
    "welfare_contact",
    "slt_informed",
    "staff_association_notified",
    "leaflet_given",
}


def codes(rows: list[tuple[str, str, str | None, datetime]], kind: str = "nudge") -> set[str | None]:
    return {code for k, _, code, _ in rows if k == kind}


def test_nothing_is_sent_before_it_is_due(runtime: Runtime) -> None:
    report(runtime, consent="no")
    assert sweep(runtime, START + 23 * HOUR).queued == 0
    assert outbox(runtime) == []


def test_due_points_are_nudged_to_their_owner_once_per_slot(runtime: Runtime) -> None:
    report(runtime, consent="no")
    first = sweep(runtime, START + 25 * HOUR)
    rows = outbox(runtime)
    assert codes(rows) == SUPERVISOR_24H
    assert {email for _, email, _, _ in rows} == {SUPERVISOR}
    assert first.queued == 1  # one reminder listing the seven points
    assert sweep(runtime, START + 25 * HOUR).queued == 0  # same slot: nothing more
    assert sweep(runtime, START + 30 * HOUR).queued == 0  # next reminder not due yet
    second = sweep(runtime, START + 49 * HOUR)  # 24 hours after the first reminder
    assert second.queued == 1
    assert codes(outbox(runtime)) == SUPERVISOR_24H


def test_the_fim_point_is_urgent_and_ignores_quiet_hours(runtime: Runtime, clock: FakeClock) -> None:
    clock.now = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 22:30 in London
    report(runtime, hospital=True, consent="no")
    sweep(runtime, clock.now + 1 * HOUR + timedelta(minutes=1))
    [(kind, email, code, not_before)] = outbox(runtime)
    assert (kind, email, code) == ("nudge", SUPERVISOR, "chief_officer_notified_via_fim")
    assert not_before == clock.now + 1 * HOUR + timedelta(minutes=1)


def test_other_points_wait_for_the_end_of_quiet_hours(runtime: Runtime, clock: FakeClock) -> None:
    clock.now = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)
    report(runtime, consent="no")
    sweep(runtime, clock.now + 24 * HOUR + timedelta(minutes=5))
    assert {nb for _, _, _, nb in outbox(runtime)} == {datetime(2026, 11, 25, 7, 0, tzinfo=UTC)}


def test_a_persons_own_quiet_hours_apply(runtime: Runtime) -> None:
    report(runtime, consent="no")
    with runtime.sessions.begin() as session:
        person = session.scalar(select(Person).where(Person.email == SUPERVISOR))
        assert person is not None
        person.quiet_from, person.quiet_until = "08:00", "12:00"
    sweep(runtime, START + 25 * HOUR)  # 10:00
    assert {nb for _, _, _, nb in outbox(runtime)} == {datetime(2026, 11, 24, 12, 0, tzinfo=UTC)}


def test_io_points_go_to_the_supervisor_until_an_io_is_assigned(runtime: Runtime) -> None:
    reference = report(runtime, consent="no")
    sweep(runtime, START + 7 * DAY + HOUR)
    assert ("unassigned", SUPERVISOR, "vps_offered") in {(k, e, c) for k, e, c, _ in outbox(runtime)}
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    for text_ in ("my cases", reference, "assign the investigating officer", IO):
        supervisor.say(text_)
    assert keys(supervisor.last)[0] == "strings.io_assigned"
    sweep(runtime, START + 8 * DAY + 2 * HOUR)
    assert ("nudge", IO, "vps_offered") in {(k, e, c) for k, e, c, _ in outbox(runtime)}


def test_senior_review_goes_to_the_areas_leadership(runtime: Runtime) -> None:
    add_leader(runtime)
    add_leader(runtime, "supt.kim.west@example.police.uk", area="walsall")
    report(runtime, consent="no")
    sweep(runtime, START + 14 * DAY + HOUR)
    review = [(k, e) for k, e, c, _ in outbox(runtime) if c == "senior_review" and k != "digest"]
    assert review == [("nudge", LEADER)]


def test_overdue_points_escalate_once_after_the_grace_period(runtime: Runtime) -> None:
    add_leader(runtime)
    reference = report(runtime, consent="no")
    assert sweep(runtime, START + 47 * HOUR).escalated == 0
    escalated = sweep(runtime, START + 48 * HOUR + timedelta(minutes=1))
    one_day_grace = SUPERVISOR_24H - {"leaflet_given"}  # the leaflet has 48 hours' grace
    assert escalated.escalated == len(one_day_grace)
    assert codes(outbox(runtime), "escalation") == one_day_grace
    assert {e for k, e, _, _ in outbox(runtime) if k == "escalation"} == {LEADER}
    assert sweep(runtime, START + 60 * HOUR).escalated == 0
    assert point(runtime, reference, "crime_recorded").escalated_at is not None


def test_escalation_without_leadership_goes_to_the_spoc(runtime: Runtime) -> None:
    add_leader(runtime, "insp.op.hampshire@example.police.uk", area=None, role="spoc")
    report(runtime, consent="no")
    sweep(runtime, START + 49 * HOUR)
    assert {e for k, e, _, _ in outbox(runtime) if k == "escalation"} == {
        "insp.op.hampshire@example.police.uk"
    }


def test_overdue_points_with_nobody_to_hear_are_not_counted_as_escalated_and_said_once(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    report(runtime, consent="no")
    with caplog.at_level(logging.WARNING, logger="bot.reminders.sweep"):
        result = sweep(runtime, START + 48 * HOUR + timedelta(minutes=1))
    one_day_grace = SUPERVISOR_24H - {"leaflet_given"}
    assert result.escalated == 0
    assert result.unescalated == {"coventry": len(one_day_grace)}
    assert codes(outbox(runtime), "escalation") == set()
    [line] = [r.getMessage() for r in caplog.records if r.name == "bot.reminders.sweep"]
    assert "--role slt --area coventry" in line
    # A leader added afterwards is not sent the missed escalations; the digest lists the points.
    add_leader(runtime)
    assert sweep(runtime, START + 60 * HOUR).escalated == 0


def test_after_downtime_each_point_is_nudged_once_oldest_first(runtime: Runtime) -> None:
    report(runtime, consent="no")
    result = sweep(runtime, START + 5 * DAY)  # the bot was down for five days
    with runtime.sessions() as session:
        [payload] = session.scalars(select(Nudge.payload).where(Nudge.kind == "nudge")).all()
    points = [p["point"] for case in payload["cases"] for p in case["points"]]
    # Nine points fell due in those five days: listed once each, in one reminder, oldest first.
    assert len(points) == len(set(points)) == 9
    assert result.queued == 1
    slots = [p["slot"] for case in payload["cases"] for p in case["points"]]
    assert slots == sorted(slots)


def test_snoozing_puts_off_the_reminder_but_not_the_escalation(runtime: Runtime) -> None:
    add_leader(runtime)
    reference = report(runtime, consent="no")
    sweep(runtime, START + 25 * HOUR)
    crime = point(runtime, reference, "crime_recorded")
    runtime.clock.now = START + 30 * HOUR  # type: ignore[attr-defined]
    assert keys(press(runtime, SUPERVISOR, reference, crime.id, "snooze")) == [
        "strings.point_snoozed",
        "strings.anything_else",
    ]
    assert point(runtime, reference, "crime_recorded").remind_at == START + 54 * HOUR
    sweep(runtime, START + 49 * HOUR)  # the others' second reminder; crime_recorded escalates
    rows = [(k, c) for k, _, c, _ in outbox(runtime)]
    assert rows.count(("nudge", "crime_recorded")) == 1
    assert ("escalation", "crime_recorded") in rows
    sweep(runtime, START + 54 * HOUR + timedelta(minutes=1))
    assert [(k, c) for k, _, c, _ in outbox(runtime)].count(("nudge", "crime_recorded")) == 2


def test_a_nudges_buttons_close_the_point(runtime: Runtime) -> None:
    reference = report(runtime, consent="no")
    sweep(runtime, START + 25 * HOUR)
    leaflet = point(runtime, reference, "leaflet_given")
    assert keys(press(runtime, SUPERVISOR, reference, leaflet.id, "done"))[0] == "strings.point_marked_done"
    assert (
        keys(press(runtime, SUPERVISOR, reference, leaflet.id, "done"))[0] == "strings.point_already_closed"
    )
    esafety = point(runtime, reference, "esafety_report")
    assert keys(press(runtime, SUPERVISOR, reference, esafety.id, "not_applicable")) == [
        "strings.ask_na_reason"
    ]
    assert keys(Conversation(RuntimePort(runtime), SUPERVISOR).say("Done by the custody sergeant"))[0] == (
        "strings.point_marked_na"
    )
    stranger = "pc.nosey.parker@example.police.uk"
    assert keys(press(runtime, stranger, reference, esafety.id, "done"))[0] == "strings.point_not_found"
    sweep(runtime, START + 49 * HOUR)
    second = [codes for kind, _, codes in messages(runtime) if kind == "nudge"][-1]
    assert {code for _, code, _ in second} == SUPERVISOR_24H - {"leaflet_given", "esafety_report"}


def test_a_nudge_pressed_mid_report_resumes_the_report(runtime: Runtime) -> None:
    reference = report(runtime, consent="no")
    sweep(runtime, START + 25 * HOUR)
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    supervisor.say("report assault")
    supervisor.say("pc.ben.ward@example.police.uk")
    leaflet = point(runtime, reference, "leaflet_given")
    assert keys(press(runtime, SUPERVISOR, reference, leaflet.id, "done")) == [
        "strings.point_marked_done",
        "strings.continuing",
        "strings.ask_confirm_new_person",
    ]


def test_the_daily_digest_lists_overdue_points_once_a_day(runtime: Runtime) -> None:
    add_leader(runtime)
    report(runtime, consent="no")
    morning = datetime(2026, 11, 25, 7, 59, tzinfo=UTC)
    assert sweep(runtime, morning).digests == 0
    assert sweep(runtime, morning + timedelta(minutes=2)).digests == 1
    assert sweep(runtime, morning + 5 * HOUR).digests == 0
    assert sweep(runtime, morning + DAY + timedelta(minutes=2)).digests == 1
    assert [e for k, e, _ in messages(runtime) if k == "digest"] == [LEADER, LEADER]


def test_other_areas_leaders_get_no_digest(runtime: Runtime) -> None:
    add_leader(runtime, area="walsall")
    report(runtime, consent="no")
    assert sweep(runtime, datetime(2026, 11, 25, 9, 0, tzinfo=UTC)).digests == 0


def test_a_new_case_is_announced_to_the_areas_leaders(runtime: Runtime) -> None:
    add_leader(runtime)
    report(runtime, consent="no")
    assert [(k, e) for k, e, _, _ in outbox(runtime)] == [("slt_new_case", LEADER)]


def test_a_recurring_victim_update_comes_round_at_the_agreed_interval(
    runtime: Runtime, clock: FakeClock
) -> None:
    reference = report(runtime, consent="no")
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    for text_ in ("my cases", reference, "assign the investigating officer", IO):
        supervisor.say(text_)
    first = point(runtime, reference, "victim_updated")
    assert first.due_at == START + 28 * DAY
    clock.advance(days=10)
    assert keys(press(runtime, IO, reference, first.id, "done"))[0] == "strings.point_marked_done"
    assert point(runtime, reference, "victim_updated", 2).due_at == START + 38 * DAY
    io = Conversation(RuntimePort(runtime), IO)
    for text_ in (f"update case {reference}", "change how often", "14 days"):
        io.say(text_)
    assert keys(io.last)[0] == "strings.update_interval_set"
    assert point(runtime, reference, "victim_updated", 2).due_at == START + 24 * DAY


def test_the_sweep_query_uses_its_index(sqlite_runtime: Runtime) -> None:
    with sqlite_runtime.engine.connect() as connection:
        plan = connection.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT id FROM plan_point WHERE status = :s AND next_nudge_at <= :now "
                "ORDER BY next_nudge_at LIMIT 500"
            ),
            {"s": "open", "now": "2026-11-24 00:00:00"},
        ).all()
    assert "ix_plan_point_status_next_nudge_at" in " ".join(str(row) for row in plan)


def test_the_digest_reads_its_first_lines_from_an_index_without_sorting(sqlite_runtime: Runtime) -> None:
    with sqlite_runtime.engine.connect() as connection:
        plan = " ".join(
            str(row)
            for row in connection.execute(
                text(
                    'EXPLAIN QUERY PLAN SELECT p.id FROM plan_point p JOIN "case" c ON p.case_id = c.id '
                    "WHERE p.status = :s AND p.due_at < :now AND c.area IN ('coventry') "
                    "ORDER BY p.case_id, p.due_at LIMIT 100"
                ),
                {"s": "open", "now": "2026-11-24 00:00:00"},
            )
        )
    assert "ix_plan_point_status_case_id_due_at" in plan and "TEMP B-TREE" not in plan


@pytest.mark.postgres
def test_two_sweeps_at_once_queue_each_nudge_once(postgres_engine: object, clock: FakeClock) -> None:
    from tests.conftest import make_runtime

    runtime = make_runtime(postgres_engine, clock)  # type: ignore[arg-type]
    for number in range(6):
        report(runtime, victim=f"pc.victim{number}@example.police.uk", consent="no")
    barrier = threading.Barrier(2)
    reports = []

    def run() -> None:
        barrier.wait()
        reports.append(sweep(runtime, START + 25 * HOUR))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with runtime.sessions() as session:
        total = session.scalar(select(func.count()).select_from(Nudge))
        keys_ = session.scalar(select(func.count(func.distinct(Nudge.dedupe_key))))
    assert total == keys_ >= 6  # a case's points may be split between the two sweeps, never doubled
    listed = [(ref, code) for kind, _, points in messages(runtime) for ref, code, _ in points]
    assert len(listed) == len(set(listed)) == 6 * len(SUPERVISOR_24H)
    assert sum(r.queued for r in reports) == total
