"""Reminders that name a case are disclosures: audited, purpose `reminder`, in one insert per message."""

from __future__ import annotations

from sqlalchemy import event, select

from bot.reminders.delivery import take_for_console
from bot.reminders.disclosure import audit_disclosures, named_references
from bot.runtime import Runtime
from store.audit import verify_chain
from store.models import AccessAudit, Case, Nudge, Person
from tests.bot.helpers import SUPERVISOR, report, sweep
from tests.bot.reminders.test_delivery import DUE, deliver, on_slack
from tests.channel import FakePush
from tests.conftest import FakeClock


def disclosures(runtime: Runtime) -> list[tuple[str, str, str, str]]:
    """(recipient, case reference, surface, purpose) of every disclosure audited."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(Person.email, Case.reference, AccessAudit.surface, AccessAudit.purpose)
            .join(Person, AccessAudit.person_id == Person.id)
            .join(Case, AccessAudit.case_id == Case.id)
            .where(AccessAudit.action == "disclose")
            .order_by(AccessAudit.seq)
        )
        return [(email, reference, surface, purpose) for email, reference, surface, purpose in rows]


class AuditInserts:
    """Counts the statements that insert audit rows on an engine while in use."""

    def __init__(self, runtime: Runtime) -> None:
        self.engine = runtime.engine
        self.count = 0

    def _seen(self, conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ACCESS_AUDIT"):
            self.count += 1

    def __enter__(self) -> AuditInserts:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def test_each_reminder_sent_is_audited_as_a_disclosure_of_its_case(
    runtime: Runtime, clock: FakeClock
) -> None:
    # No leaflets, so no requests to hand them over: the reminders alone.
    first = report(runtime, consent="no")
    second = report(runtime, victim="pc.jo.bell@example.police.uk", consent="no")
    on_slack(runtime)
    clock.now = DUE
    assert sweep(runtime, DUE).queued == 2
    with AuditInserts(runtime) as inserts:
        assert deliver(runtime, FakePush()).sent == 2
    assert inserts.count == 2  # one per message
    assert sorted(disclosures(runtime)) == [
        (SUPERVISOR, first, "slack", "reminder"),
        (SUPERVISOR, second, "slack", "reminder"),
    ]
    with runtime.sessions() as session:
        assert verify_chain(session=session)[1] is None


def test_a_message_naming_many_cases_is_audited_in_one_insert(runtime: Runtime, clock: FakeClock) -> None:
    references = [report(runtime), report(runtime, victim="pc.jo.bell@example.police.uk")]
    with runtime.sessions.begin() as session:
        leader = session.scalars(select(Person).where(Person.email == SUPERVISOR)).one()
        digest = Nudge(
            dedupe_key="digest-test",
            kind="digest",
            recipient_id=leader.id,
            due_slot=DUE,
            payload={},
            status="sent",
            channel="teams",
            not_before=DUE,
            created_at=DUE,
        )
        session.add(digest)
        session.flush()
        payload = {"points": [{"reference": r, "point": 1} for r in references]}
        with AuditInserts(runtime) as inserts:
            audit_disclosures(session=session, sent=[(digest, payload)], now=DUE)
    assert inserts.count == 1
    assert sorted(disclosures(runtime)) == [(SUPERVISOR, r, "teams", "reminder") for r in references]


def test_a_reminder_not_sent_is_not_a_disclosure(runtime: Runtime, clock: FakeClock) -> None:
    report(runtime, consent="no")  # no leaflet for the victim: only the supervisor's reminder
    clock.now = DUE
    sweep(runtime, DUE)
    assert deliver(runtime, FakePush()).held == 1  # nobody to push to: held, not sent
    assert disclosures(runtime) == []


def test_reminders_shown_in_the_console_are_audited_there(runtime: Runtime, clock: FakeClock) -> None:
    reference = report(runtime, consent="no")  # no leaflet, so no request to hand it over either
    clock.now = DUE
    sweep(runtime, DUE)
    deliver(runtime, FakePush())
    with runtime.sessions() as session:
        person = session.scalars(select(Person).where(Person.email == SUPERVISOR)).one()
    assert take_for_console(runtime.pack, sessions=runtime.sessions, person_id=person.id, now=clock.now)
    assert disclosures(runtime) == [(SUPERVISOR, reference, "console", "reminder")]


def test_the_references_a_payload_names() -> None:
    grouped = {"cases": [{"reference": "OH-2026-0001", "points": []}, {"reference": "OH-2026-0002"}]}
    assert named_references(grouped) == ["OH-2026-0001", "OH-2026-0002"]
    assert named_references({"reference": "OH-2026-0003"}) == ["OH-2026-0003"]
    digest = {
        "points": [{"reference": "OH-2026-0004", "point": 1}, {"reference": "OH-2026-0004", "point": 2}]
    }
    assert named_references(digest) == ["OH-2026-0004"]
