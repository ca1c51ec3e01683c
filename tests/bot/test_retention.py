"""Retention: abandoned conversations, processed event ids and closed cases go on time, audited.

Every test runs on SQLite and PostgreSQL with an injected clock.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.conversation import RuntimePort
from bot.reminders.queue import queue
from bot.retention import prune_expired, scheduled_prune
from bot.runtime import Runtime
from store import replies
from store.events import mark_processed
from store.models import (
    AccessAudit,
    Case,
    CaseEvent,
    CaseWitness,
    DialogStateRow,
    Nudge,
    Person,
    PlanPoint,
    ProcessedEvent,
    QueuedReply,
    WelfareRecord,
)
from store.retention import Pruned
from tests.bot.helpers import SUPERVISOR, report, sweep
from tests.channel import Conversation, keys
from tests.conftest import FakeClock

DAY = timedelta(days=1)
CASE_ROWS: tuple[Any, ...] = (Case, PlanPoint, Nudge, CaseEvent, WelfareRecord, CaseWitness)


def count(runtime: Runtime, model: type) -> int:
    with runtime.sessions.begin() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def close(runtime: Runtime, reference: str) -> int:
    """Close the case now (as an SPOC would once its plan is done); returns its id."""
    with runtime.sessions.begin() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        case.status, case.closed_at = "closed", runtime.clock()
        return case.id


def test_an_abandoned_conversation_is_forgotten_after_the_packs_30_days(
    runtime: Runtime, clock: FakeClock
) -> None:
    assert runtime.pack.meta.retention.conversation_days == 30
    talker = Conversation(RuntimePort(runtime), SUPERVISOR)
    talker.say("report assault")
    talker.say("pc.amy.hart@example.police.uk")  # an answer, then silence
    clock.advance(days=29)
    other = Conversation(RuntimePort(runtime), "pc.sam.lee@example.police.uk")
    other.say("menu")
    clock.advance(days=1, seconds=1)
    assert prune_expired(runtime.pack, sessions=runtime.sessions, now=clock(), dry_run=True) == Pruned(
        1, 0, 0
    )
    assert count(runtime, DialogStateRow) == 2
    assert prune_expired(runtime.pack, sessions=runtime.sessions, now=clock()) == Pruned(1, 0, 0)
    assert count(runtime, DialogStateRow) == 1
    # The supervisor starts afresh: the half-told report is gone, not resumed.
    assert keys(talker.say("hello"))[0] != "strings.ask_victim_role"


def test_processed_event_ids_are_pruned_after_the_packs_period(runtime: Runtime, clock: FakeClock) -> None:
    with runtime.sessions.begin() as session:
        mark_processed(session=session, channel="slack", event_id="Ev-old", now=clock())
        mark_processed(session=session, channel="slack", event_id="Ev-new", now=clock() + DAY)
    clock.advance(days=2, seconds=1)
    assert prune_expired(runtime.pack, sessions=runtime.sessions, now=clock()) == Pruned(0, 1, 0)
    with runtime.sessions.begin() as session:
        assert session.scalars(select(ProcessedEvent.event_id)).all() == ["Ev-new"]


def test_a_closed_case_is_deleted_after_the_retention_period_and_the_deletion_audited(
    runtime: Runtime, clock: FakeClock
) -> None:
    periods = runtime.pack.meta.retention
    old = report(runtime)
    kept_open = report(
        runtime, victim="pc.sam.lee@example.police.uk", witnesses="sgt.tom.reid@example.police.uk"
    )
    sweep(runtime, clock() + 2 * DAY)  # reminders queued about both
    assert count(runtime, Nudge) > 0 and count(runtime, CaseWitness) == 1
    old_id = close(runtime, old)
    with runtime.sessions.begin() as session:
        trail = [
            (a.id, a.action)
            for a in session.scalars(select(AccessAudit).where(AccessAudit.case_id == old_id))
        ]
    assert trail
    before = {model: count(runtime, model) for model in CASE_ROWS}

    clock.advance(days=periods.closed_case_days - 1)
    assert prune_expired(runtime.pack, sessions=runtime.sessions, now=clock()).closed_cases == 0
    clock.advance(days=1, seconds=1)
    assert prune_expired(runtime.pack, sessions=runtime.sessions, now=clock(), dry_run=True).closed_cases == 1
    assert {model: count(runtime, model) for model in CASE_ROWS} == before
    assert prune_expired(runtime.pack, sessions=runtime.sessions, now=clock()).closed_cases == 1

    with runtime.sessions.begin() as session:
        assert session.scalars(select(Case.reference)).all() == [kept_open]
        for model in CASE_ROWS[1:]:
            assert session.scalar(select(func.count()).select_from(model).where(model.case_id == old_id)) == 0
        assert (session.scalar(select(func.count()).select_from(PlanPoint)) or 0) > 0  # the open case's
        rows = session.scalars(
            select(AccessAudit).where(AccessAudit.case_id == old_id).order_by(AccessAudit.id)
        ).all()
        # The trail keeps every row about the case, and ends with its deletion, naming only its reference.
        assert [(a.id, a.action) for a in rows[:-1]] == trail
        deleted = rows[-1]
        assert (deleted.action, deleted.surface, deleted.person_id, deleted.detail, deleted.at) == (
            "deleted",
            "retention",
            None,
            f"case {old}",
            clock(),
        )
    assert prune_expired(runtime.pack, sessions=runtime.sessions, now=clock()) == Pruned(0, 0, 0)


def test_the_scheduled_run_logs_counts_and_never_case_detail(
    runtime: Runtime, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    reference = report(runtime)
    close(runtime, reference)
    clock.advance(days=runtime.pack.meta.retention.closed_case_days + 1)
    caplog.set_level("INFO")
    asyncio.run(scheduled_prune(runtime))
    assert "1 closed cases deleted" in caplog.text and "sent replies" in caplog.text
    assert reference not in caplog.text and "Broad Street" not in caplog.text
    assert count(runtime, Case) == 0


def _reply_rows(runtime: Runtime, statuses: dict[str, str]) -> None:
    """A queued reply per key, left in the given status (sent ones sent now)."""
    with runtime.sessions.begin() as session:
        for key, status in statuses.items():
            row_id = replies.queue(
                session=session,
                key=key,
                channel="slack",
                payload={"text": "case OH-2026-0001"},
                now=runtime.clock(),
            ).id
            row = session.get(QueuedReply, row_id)
            assert row is not None
            row.status = status  # type: ignore[assignment]
            row.sent_at = runtime.clock() if status == "sent" else None


def _statuses(runtime: Runtime, model: Any) -> list[str]:
    with runtime.sessions.begin() as session:
        return sorted(session.scalars(select(model.status)))


def test_finished_outbox_rows_go_after_the_packs_periods_and_unfinished_ones_stay(
    runtime: Runtime, clock: FakeClock
) -> None:
    periods = runtime.pack.meta.retention
    assert (periods.sent_reply_days, periods.sent_reminder_days) == (7, 30)
    finished_replies = {"r-sent": "sent", "r-failed": "failed", "r-unconfirmed": "unconfirmed"}
    _reply_rows(runtime, {**finished_replies, "r-pending": "pending", "r-uncertain": "uncertain"})
    with runtime.sessions.begin() as session:
        person = Person(email="pc.amy.hart@example.police.uk", created_at=clock())
        session.add(person)
        session.flush()
        for status in ("sent", "failed", "unconfirmed", "withdrawn", "pending", "held", "uncertain"):
            queue(
                runtime.pack, session=session, kind="victim_update", recipient=person, slot=clock(),
                payload={"reference": "OH-2026-0001", "status": status}, now=clock(), key=f"n-{status}",
            )  # fmt: skip
        for row in session.scalars(select(Nudge)):
            row.status = row.payload["status"]
            row.sent_at = clock() if row.status == "sent" else None

    clock.advance(days=periods.sent_reply_days - 1)
    assert prune_expired(runtime.pack, sessions=runtime.sessions, now=clock()).replies == 0
    clock.advance(days=1, seconds=1)
    dry = prune_expired(runtime.pack, sessions=runtime.sessions, now=clock(), dry_run=True)
    assert (dry.replies, dry.reminders) == (3, 0)
    assert len(_statuses(runtime, QueuedReply)) == 5
    assert prune_expired(runtime.pack, sessions=runtime.sessions, now=clock()).replies == 3
    assert _statuses(runtime, QueuedReply) == ["pending", "uncertain"]

    clock.advance(days=periods.sent_reminder_days - periods.sent_reply_days)
    assert prune_expired(runtime.pack, sessions=runtime.sessions, now=clock(), dry_run=True).reminders == 4
    assert len(_statuses(runtime, Nudge)) == 7
    assert prune_expired(runtime.pack, sessions=runtime.sessions, now=clock()).reminders == 4
    assert _statuses(runtime, Nudge) == ["held", "pending", "uncertain"]


def test_a_deleted_case_takes_the_reminders_that_name_it_in_their_payload_alone(
    runtime: Runtime, clock: FakeClock
) -> None:
    old = report(runtime)
    kept_open = report(runtime, victim="pc.sam.lee@example.police.uk")
    close(runtime, old)
    with runtime.sessions.begin() as session:
        leader = Person(email="supt.jo.marsh@example.police.uk", created_at=clock())
        session.add(leader)
        session.flush()
        # A digest names its cases in its (encrypted) payload only: no case_id ties it to either.
        for name, references in (("old", [old]), ("both", [kept_open, old]), ("open", [kept_open])):
            queue(
                runtime.pack, session=session, kind="digest", recipient=leader, slot=clock(), key=f"d-{name}",
                payload={"cases": [{"reference": r, "points": []} for r in references]}, now=clock(),
            )  # fmt: skip
    clock.advance(days=runtime.pack.meta.retention.closed_case_days + 1)
    assert prune_expired(runtime.pack, sessions=runtime.sessions, now=clock()).closed_cases == 1
    with runtime.sessions.begin() as session:
        left = session.scalars(select(Nudge.dedupe_key).where(Nudge.case_id.is_(None))).all()
    assert [key for key in left if key.startswith("d-")] == ["d-open"]
