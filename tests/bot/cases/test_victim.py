"""The victim's own path and the rest of the Victims' Code, on the case service's records.

The transcripts (`tests/transcripts/victim_*.yaml`) prove the conversations on every channel; these
tests prove what they leave behind: clocks, notices, audit rows and what a victim's view hides.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.cases import effects, service
from bot.conversation import RuntimePort
from bot.reminders.delivery import take_for_console
from bot.runtime import Runtime
from dialogs.clock import add_working_days
from dialogs.render import point_title, victim_progress
from dialogs.types import DialogState
from store.cases import find_case
from store.models import AccessAudit, CaseEvent, Nudge, Person, VictimDisclosure
from store.people import ensure_person
from store.subject_access import export_person
from tests.bot.cases.test_decisions import assign_io, decide
from tests.bot.helpers import IO, SUPERVISOR, VICTIM, add_leader, case, outbox, point, report
from tests.channel import Conversation, keys
from tests.conftest import FakeClock

FIM = "insp.ola.fim@example.police.uk"
WELFARE = "insp.kim.doyle@example.police.uk"


def disclose(runtime: Runtime, every: str = "fortnightly", supervisor: str = SUPERVISOR) -> None:
    victim = Conversation(RuntimePort(runtime), VICTIM)
    for text in ("I've been assaulted", "yes"):
        victim.say(text)
    victim.pick(every)
    assert keys(victim.say(supervisor))[0] == "strings.supervisor_told"


def _person_id(runtime: Runtime, email: str) -> int:
    with runtime.sessions() as session:
        found = session.scalar(select(Person.id).where(Person.email == email))
        assert found is not None
        return found


def test_the_supervisor_is_told_who_not_what(runtime: Runtime) -> None:
    disclose(runtime)
    with runtime.sessions() as session:
        [row] = session.scalars(select(Nudge).where(Nudge.kind == "victim_disclosure")).all()
        assert row.case_id is None and row.recipient.email == SUPERVISOR
        assert set(row.payload) == {"victim_email", "victim_name", "disclosure"}
        [disclosure] = session.scalars(select(VictimDisclosure)).all()
        assert (disclosure.update_interval_days, disclosure.case_id) == (14, None)


def test_the_interval_the_victim_chose_sets_the_update_clock_when_the_case_opens(
    runtime: Runtime, clock: FakeClock
) -> None:
    disclose(runtime, "fortnightly")
    reference = report(runtime)
    opened = case(runtime, reference)
    assert opened.update_interval_days == 14
    assert point(runtime, reference, "victim_updated").due_at == clock.now + timedelta(days=14)
    with runtime.sessions() as session:
        [disclosure] = session.scalars(select(VictimDisclosure)).all()
        assert disclosure.case_id == opened.id


def test_without_a_choice_the_pack_interval_stands(runtime: Runtime, clock: FakeClock) -> None:
    disclose(runtime, "default")
    reference = report(runtime)
    assert point(runtime, reference, "victim_updated").due_at == clock.now + timedelta(days=28)


def test_the_victim_changes_the_interval_from_their_case(runtime: Runtime, clock: FakeClock) -> None:
    reference = report(runtime)
    victim = Conversation(RuntimePort(runtime), VICTIM)
    victim.say("my cases")
    victim.pick(reference)
    victim.pick("update_every")
    assert keys(victim.pick("weekly"))[0] == "strings.my_update_every_set"
    assert point(runtime, reference, "victim_updated").due_at == clock.now + timedelta(days=7)
    # Told as a working day: START + 7 days is a Monday.
    assert "Mon 30 Nov 2026" in victim.last[0].facts[0].value


def test_a_suspect_arrested_at_the_report_starts_the_key_decision_clock(
    runtime: Runtime, clock: FakeClock
) -> None:
    reference = report(runtime, arrested="yes", occurred="today 07:00")
    occurred = case(runtime, reference).occurred_at
    told = point(runtime, reference, "decision_explained")
    assert told.due_at == add_working_days(occurred, 5, timezone="Europe/London")
    assert ("victim_decision", VICTIM, None, clock.now) in outbox(runtime)
    with runtime.sessions() as session:
        found = find_case(session=session, reference=reference)
        assert found is not None
        kinds = [e.kind for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == found.id))]
        assert "decision_recorded" in kinds


@pytest.mark.parametrize(
    ("decision", "review"),
    [("discontinuance", True), ("no_further_action", True), ("out_of_court_disposal", False)],
)
def test_the_right_to_review_follows_nfa_and_discontinuance_only(
    runtime: Runtime, decision: str, review: bool
) -> None:
    reference = report(runtime)
    assign_io(runtime, reference)
    decide(runtime, reference, decision, "today 08:00")
    codes = {p.code for p in case(runtime, reference).points}
    assert ("vrr_explained" in codes) is review
    assert (case(runtime, reference).review_until is not None) is review
    assert point(runtime, reference, "decision_explained").status == "open"


def test_no_victim_view_shows_a_decision_the_pack_keeps_from_them(runtime: Runtime) -> None:
    reference = report(runtime)
    assign_io(runtime, reference)
    decide(runtime, reference, "charge", "today 08:00")
    decide(runtime, reference, "discontinuance", "today 08:30")
    hidden = [point_title(runtime.pack, c) for c in ("impact_statement_requested", "vrr_explained")]
    with runtime.sessions.begin() as session:  # done points are listed to the victim: these not
        found = find_case(session=session, reference=reference)
        io = session.scalar(select(Person).where(Person.email == IO))
        assert found is not None and io is not None
        for code in ("impact_statement_requested", "vrr_explained"):
            done = service.close_point(
                runtime.pack, session=session, actor=io, case=found, status="done", surface="console",
                point_id=next(p.id for p in found.points if p.code == code), now=runtime.clock(),
            )  # fmt: skip
            assert done == "done"
    victim = Conversation(RuntimePort(runtime), VICTIM)
    views = [victim.say("what happens next")[0]]
    victim.say("cancel")
    victim.say("my cases")
    views.append(victim.pick(reference)[0])
    with runtime.sessions() as session:
        notices = take_for_console(
            runtime.pack,
            sessions=runtime.sessions,
            person_id=_person_id(runtime, VICTIM),
            now=runtime.clock(),
        )
        assert session is not None
    shown = "\n".join(
        [r.text for r in views + notices] + [f.label + f.value for r in views + notices for f in r.facts]
    )
    for title in hidden:
        assert title not in shown
    said = shown.lower().replace("right to ask for a review", "")
    for words in ("charge", "discontinu", "review", runtime.pack.text("strings.decision_charge")):
        # Word starts: the leaflet's hospital payment runs "until you are discharged".
        assert re.search(rf"\b{re.escape(words.lower())}", said) is None, words


def test_hospital_admission_after_the_report_reaches_the_fim_and_completes_on_delivery(
    runtime: Runtime, clock: FakeClock
) -> None:
    add_leader(runtime, FIM, area=None, role="fim")
    reference = report(runtime)
    assert "chief_officer_notified_via_fim" not in {p.code for p in case(runtime, reference).points}
    clock.advance(hours=30)
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    supervisor.say(f"update case {reference}")
    assert keys(supervisor.pick("hospital"))[0] == "strings.hospital_recorded"
    chief = point(runtime, reference, "chief_officer_notified_via_fim")
    payment = point(runtime, reference, "hospital_payment_claimed")
    assert chief.due_at == clock.now + timedelta(hours=1) and chief.urgent
    assert payment.due_at == clock.now + timedelta(hours=72)
    assert case(runtime, reference).hospitalised
    [(kind, to, _, not_before)] = [row for row in outbox(runtime) if row[0] == "fim_hospital"]
    assert (to, not_before) == (FIM, clock.now)  # urgent: never held for quiet hours
    [notice] = take_for_console(
        runtime.pack, sessions=runtime.sessions, person_id=_person_id(runtime, FIM), now=clock.now
    )
    assert notice.key == "strings.fim_hospital" and reference in notice.text
    assert point(runtime, reference, "chief_officer_notified_via_fim").status == "done"
    assert point(runtime, reference, "hospital_payment_claimed").status == "open"


def test_hospital_at_the_report_tells_the_fim_too(runtime: Runtime) -> None:
    add_leader(runtime, FIM, area=None, role="fim")
    reference = report(runtime, hospital=True)
    assert [row[1] for row in outbox(runtime) if row[0] == "fim_hospital"] == [FIM]
    assert point(runtime, reference, "chief_officer_notified_via_fim").status == "open"


def test_without_a_fim_the_point_stays_with_the_supervisor(runtime: Runtime) -> None:
    reference = report(runtime, hospital=True)
    assert not [row for row in outbox(runtime) if row[0] == "fim_hospital"]
    assert point(runtime, reference, "chief_officer_notified_via_fim").owner_role == "supervisor"


def test_a_repeat_victim_is_flagged_within_the_window_only(runtime: Runtime, clock: FakeClock) -> None:
    add_leader(runtime, area="coventry")
    first = report(runtime)
    clock.advance(days=400)  # beyond 12 months
    second = report(runtime)
    clock.advance(days=30)
    third = report(runtime)
    with runtime.sessions() as session:
        flags = {
            e.case_id: e.detail
            for e in session.scalars(select(CaseEvent).where(CaseEvent.kind == "repeat_victim"))
        }
        ids = {r: find_case(session=session, reference=r).id for r in (first, second, third)}  # type: ignore[union-attr]
        slt = [n.payload for n in session.scalars(select(Nudge).where(Nudge.kind == "slt_new_case"))]
    assert flags == {ids[third]: {"previous": 1}}
    assert [p.get("repeat") for p in slt] == [None, None, 1]


def test_every_read_of_the_welfare_record_is_audited(runtime: Runtime) -> None:
    add_leader(runtime, WELFARE, area="coventry", role="welfare")
    reference = report(runtime)
    assign_io(runtime, reference)
    for email in (SUPERVISOR, VICTIM, WELFARE):
        reader = Conversation(RuntimePort(runtime), email)
        reader.say("my cases")
        reader.pick(reference)
        assert keys(reader.pick("welfare"))[0] == "strings.welfare_record_shown", email
        assert "Shaken" not in reader.last[0].text  # the answers are facts, asked for
    io = Conversation(RuntimePort(runtime), IO)
    io.say("my cases")
    io.pick(reference)
    assert "welfare" not in io.choices()
    with runtime.sessions() as session:
        readers = session.scalars(
            select(Person.email)
            .join(AccessAudit, AccessAudit.person_id == Person.id)
            .where(AccessAudit.action == "welfare_view")
        ).all()
    assert sorted(readers) == sorted([SUPERVISOR, VICTIM, WELFARE])


def test_dates_told_to_a_victim_fall_on_working_days(runtime: Runtime, clock: FakeClock) -> None:
    # Reported on Sunday 27 Dec 2026: 28 days on is Sunday 24 Jan 2027, told as Monday 25 Jan.
    clock.now = datetime(2026, 12, 27, 10, 0, tzinfo=UTC)
    reference = report(runtime)
    assert point(runtime, reference, "victim_updated").due_at.weekday() == 6
    [progress] = Conversation(RuntimePort(runtime), VICTIM).say("what happens next")[0].facts
    assert "Mon 25 Jan 2027" in progress.value and "24 Jan" not in progress.value


def test_a_review_deadline_told_to_a_victim_is_the_working_day_before(runtime: Runtime) -> None:
    # The window ends on Sunday 24 Jan 2027: the victim is told Friday 22 Jan, not Monday 25 Jan.
    shown = {"reference": "OH-2027-0001", "review_until": "2027-01-24T10:00:00+00:00", "total": 1}
    state = DialogState(results={"load_my_progress": {"cases": [shown]}})
    [fact] = victim_progress(runtime.pack, state, runtime.clock())
    assert "Fri 22 Jan 2027" in fact.value and "25 Jan" not in fact.value


def test_where_the_pack_gives_the_victim_the_detail_their_view_shows_it(runtime: Runtime) -> None:
    reference = report(runtime)
    assign_io(runtime, reference)
    decide(runtime, reference, "no_further_action", "today 08:00")
    pack = runtime.pack
    nudges = pack.meta.nudges.model_copy(update={"decision_detail_to_victim": True})
    told = pack.model_copy(update={"meta": pack.meta.model_copy(update={"nudges": nudges})})
    with runtime.sessions.begin() as session:
        victim = session.scalar(select(Person).where(Person.email == VICTIM))
        assert victim is not None
        shown = {}
        for name, used in (("hidden", pack), ("told", told)):
            context = effects.TurnContext(used, session, victim, "console", runtime.clock(), "t1")
            _, data = effects.load_my_progress({}, context)
            shown[name] = data["cases"][0]  # type: ignore[index]
    assert shown["hidden"]["review_until"] is None  # type: ignore[index]
    assert shown["told"]["review_until"] is not None  # type: ignore[index]
    assert shown["told"]["total"] > shown["hidden"]["total"]  # type: ignore[index,operator]


def test_a_disclosure_is_part_of_a_subject_access_export(runtime: Runtime) -> None:
    disclose(runtime, "weekly")
    with runtime.sessions.begin() as session:
        mine = export_person(session=session, email=VICTIM, surface="cli", now=runtime.clock())
        theirs = export_person(session=session, email=SUPERVISOR, surface="cli", now=runtime.clock())
    assert mine is not None and theirs is not None
    assert [(d["as"], d["update_interval_days"], d["case"]) for d in mine["disclosures"]] == [
        ("victim", 7, False)
    ]
    assert [d["as"] for d in theirs["disclosures"]] == ["supervisor"]


def test_a_stranger_cannot_tell_which_welfare_records_exist(runtime: Runtime, clock: FakeClock) -> None:
    reference = report(runtime)
    assign_io(runtime, reference)
    answers = {}
    with runtime.sessions.begin() as session:
        stranger = ensure_person(session=session, email="pc.nosy.parker@example.police.uk", now=clock.now)
        io = ensure_person(session=session, email=IO, now=clock.now)
        for who, actor, asked in (
            ("stranger", stranger, reference),
            ("stranger_missing", stranger, "OH-2026-9999"),
            ("io", io, reference),
        ):
            ctx = effects.TurnContext(runtime.pack, session, actor, "console", clock.now, "t")
            answers[who] = effects.read_welfare({"case": asked}, ctx)
    # The same answer whether the case exists or not; its investigating officer is told "denied".
    assert answers == {
        "stranger": ("not_found", {}),
        "stranger_missing": ("not_found", {}),
        "io": ("denied", {}),
    }
    with runtime.sessions() as session:
        probes = session.execute(
            select(AccessAudit.action, AccessAudit.case_id.is_not(None), AccessAudit.detail)
            .where(AccessAudit.purpose == "probe")
            .order_by(AccessAudit.seq)
        ).all()
    assert [tuple(p) for p in probes][-3:] == [
        ("denied", True, None),
        ("not_found", False, "reference OH-2026-9999"),
        ("denied", True, None),
    ]
