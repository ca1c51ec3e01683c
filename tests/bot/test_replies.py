"""The reply outbox: a turn's replies commit with the turn and are sent exactly once."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.channels.inbound import Inbound
from bot.channels.outbound import Delivery
from bot.channels.port import NotStored, ReplyLease
from bot.conversation import RuntimePort
from bot.replies import ReplySender, _Outcome, reply_key
from bot.router import Router
from bot.runtime import Runtime
from store.db import make_engine, make_sessions
from store.models import ProcessedEvent, QueuedReply
from tests.channel import FakePush, keys
from tests.conftest import FakeClock, autocommit_of_statements, listening, make_runtime

SERGEANT = "sgt.amy.jones@example.police.uk"
LEASE = timedelta(minutes=2)


def _dm(text: str, event_id: str, channel: str = "slack", user: str = "U0SERGEANT") -> Inbound:
    return Inbound(
        channel=channel,
        tenant="T0HAMPSHIRE",
        user_id=user,
        email=SERGEANT,
        text=text,
        event_id=event_id,
        address={"team": "T0HAMPSHIRE", "user": "U0SERGEANT"},
    )


def _sender(runtime: Runtime, channel: FakePush, worker: str = "w1") -> ReplySender:
    return ReplySender(
        sessions=runtime.sessions, clock=runtime.clock, channel=channel, worker=worker, lease=LEASE
    )


def _rows(runtime: Runtime) -> list[QueuedReply]:
    with runtime.sessions() as session:
        return list(session.scalars(select(QueuedReply).order_by(QueuedReply.id)))


def test_a_turns_replies_commit_with_the_turn_and_its_event_id(runtime: Runtime) -> None:
    answered = runtime.router.answer(_dm("report assault", "Ev1"))
    [row] = _rows(runtime)
    assert answered.outbox == row.id and row.status == "pending" and row.channel == "slack"
    assert [r["key"] for r in row.payload["replies"]] == keys(answered.replies)
    with runtime.sessions() as session:
        assert session.scalars(select(ProcessedEvent.event_id)).all() == ["Ev1"]
    # The platform's retry of the same event: turned away, nothing more queued.
    again = runtime.router.answer(_dm("report assault", "Ev1"))
    assert again.replies == [] and again.outbox is None and len(_rows(runtime)) == 1


def test_a_reply_a_crash_left_after_the_commit_is_sent_once(runtime: Runtime, clock: FakeClock) -> None:
    runtime.router.answer(_dm("report assault", "Ev1"))  # committed; the process dies before sending
    channel = FakePush("slack")
    assert asyncio.run(_sender(runtime, channel).run_once()).sent == 0  # still its turn's to send
    clock.advance(seconds=LEASE.total_seconds())
    report = asyncio.run(_sender(runtime, channel).run_once())
    assert report.sent == 1
    assert [(user, key, keys(replies)) for user, key, replies in channel.sent] == [
        ("U0SERGEANT", reply_key(_rows(runtime)[0].id), ["strings.report_intro", "strings.ask_victim_email"])
    ]
    assert asyncio.run(_sender(runtime, channel, "w2").run_once()).sent == 0
    assert len(channel.sent) == 1 and _rows(runtime)[0].status == "sent"


def test_a_send_cut_short_is_looked_up_not_sent_twice(runtime: Runtime, clock: FakeClock) -> None:
    answered = runtime.router.answer(_dm("report assault", "Ev1"))
    assert answered.outbox is not None
    channel = FakePush("slack", script=["crash"])  # Slack got it; the worker died before recording
    with pytest.raises(SystemExit):
        asyncio.run(_sender(runtime, channel).deliver([answered.outbox]))
    assert _rows(runtime)[0].status == "sending"
    assert asyncio.run(_sender(runtime, channel, "w2").run_once()).sent == 0  # its lease holds
    clock.advance(minutes=3)
    report = asyncio.run(_sender(runtime, channel, "w2").run_once())
    assert report.reconciled == 1 and report.sent == 0
    assert len(channel.sent) == 1 and channel.lookups == [reply_key(answered.outbox)]
    assert _rows(runtime)[0].status == "sent"


def test_a_send_that_never_arrived_is_sent_after_the_look_up(runtime: Runtime, clock: FakeClock) -> None:
    answered = runtime.router.answer(_dm("report assault", "Ev1"))
    assert answered.outbox is not None
    with runtime.sessions.begin() as session:  # a worker took it and died before sending anything
        row = session.get(QueuedReply, answered.outbox)
        assert row is not None
        row.status, row.claimed_by, row.claimed_until = "sending", "dead", clock() + LEASE
    clock.advance(minutes=3)
    channel = FakePush("slack")
    report = asyncio.run(_sender(runtime, channel).run_once())
    assert report.sent == 1 and len(channel.sent) == 1 and _rows(runtime)[0].status == "sent"


def test_a_failed_send_waits_in_the_outbox_and_is_retried(runtime: Runtime, clock: FakeClock) -> None:
    answered = runtime.router.answer(_dm("report assault", "Ev1"))
    assert answered.outbox is not None
    channel = FakePush("slack", script=["503"])
    assert asyncio.run(_sender(runtime, channel).deliver([answered.outbox])).retrying == 1
    assert channel.sent == [] and _rows(runtime)[0].status == "pending"
    clock.advance(minutes=1)
    assert asyncio.run(_sender(runtime, channel).run_once()).sent == 1 and len(channel.sent) == 1


def test_a_reply_is_delivered_by_one_sender_only(runtime: Runtime, clock: FakeClock) -> None:
    answered = runtime.router.answer(_dm("report assault", "Ev1"))
    assert answered.outbox is not None
    channel = FakePush("slack")
    clock.advance(seconds=LEASE.total_seconds())  # the sweep may take it too

    async def both() -> None:
        await asyncio.gather(
            _sender(runtime, channel, "w1").deliver([answered.outbox]),
            _sender(runtime, channel, "w2").run_once(),
        )

    asyncio.run(both())
    assert len(channel.sent) == 1


def test_a_sweep_between_a_turns_commit_and_its_claim_leaves_the_reply_to_the_turn(
    runtime: Runtime, clock: FakeClock
) -> None:
    """Teams' sweep runs beside the turns: one that took a reply the turn had just committed sent
    it proactively, after the turn had answered, and out of its conversation's order."""
    port, channel = RuntimePort(runtime), FakePush("msteams")
    channel.reads_back = False
    sender, sweep = _sender(runtime, channel), _sender(runtime, channel, "sweep")
    inbound = _dm("report assault", "Ev1", channel="msteams")
    turned = port.handle(inbound, lease=sender.turn_lease())  # committed, pending: Teams gives no lease
    assert asyncio.run(sweep.run_once()).sent == 0  # the sweep runs before the turn claims its row
    assert asyncio.run(sender.send_turn(inbound, turned)).sent == 1 and len(channel.sent) == 1
    clock.advance(seconds=LEASE.total_seconds())  # long after: nothing is left to send again
    assert asyncio.run(sweep.run_once()).sent == 0 and len(channel.sent) == 1


def test_a_reply_whose_turn_never_claimed_it_is_sent_by_the_sweep_once_a_lease_has_passed(
    runtime: Runtime, clock: FakeClock
) -> None:
    channel = FakePush("msteams")
    channel.reads_back = False
    answered = runtime.router.answer(_dm("report assault", "Ev1", channel="msteams"))
    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert asyncio.run(_sender(runtime, channel).run_once()).sent == 0
    clock.advance(seconds=1)
    assert asyncio.run(_sender(runtime, channel).run_once()).sent == 1
    assert [key for _, key, _ in channel.sent] == [reply_key(answered.outbox or 0)]


def test_a_turn_given_a_lease_queues_its_replies_held_and_they_are_sent_in_one_transaction(
    runtime: Runtime,
) -> None:
    """The turn commits its replies claimed by the sender it was given (performance.md (f): no
    claim of their own); the send's outcome is its one transaction, and no other sender takes them."""
    port, channel = RuntimePort(runtime), FakePush("slack")
    sender = _sender(runtime, channel)
    inbound = _dm("report assault", "Ev1")
    turned = port.handle(inbound, lease=sender.turn_lease())
    [row] = _rows(runtime)
    assert turned.leased_until == row.claimed_until == runtime.clock() + LEASE and turned.outbox == row.id
    assert (row.status, row.claimed_by, row.attempts) == ("sending", "w1", 1)
    assert asyncio.run(_sender(runtime, channel, "w2").run_once()).sent == 0  # held by w1
    commits: list[object] = []
    with listening(runtime.engine, "commit", commits.append):
        report = asyncio.run(sender.send_turn(inbound, turned))
    assert report.sent == 1 and len(commits) == 1
    assert [(user, key, keys(replies)) for user, key, replies in channel.sent] == [
        ("U0SERGEANT", reply_key(row.id), keys(turned.replies))
    ]
    [row] = _rows(runtime)
    assert (row.status, row.claimed_by, row.platform_message_id) == ("sent", None, "m1")


def test_a_leased_reply_a_crash_left_unsent_is_looked_up_then_sent_once_its_lease_lapses(
    runtime: Runtime, clock: FakeClock
) -> None:
    port, channel = RuntimePort(runtime), FakePush("slack")
    turned = port.handle(_dm("report assault", "Ev1"), lease=_sender(runtime, channel).turn_lease())
    assert turned.outbox is not None  # committed held by w1, which dies before sending
    assert asyncio.run(_sender(runtime, channel, "w2").run_once()).sent == 0
    clock.advance(minutes=3)
    report = asyncio.run(_sender(runtime, channel, "w2").run_once())
    assert report.sent == 1 and channel.lookups == [reply_key(turned.outbox)] and len(channel.sent) == 1


def test_a_leased_reply_whose_lease_ran_down_is_renewed_before_it_is_sent_and_one_taken_over_is_not(
    runtime: Runtime, clock: FakeClock
) -> None:
    port, channel = RuntimePort(runtime), FakePush("slack")
    sender = _sender(runtime, channel)
    first, second = _dm("report assault", "Ev1"), _dm("help", "Ev2", user="U0OTHER")
    turned = port.handle(first, lease=sender.turn_lease())
    late = port.handle(second, lease=sender.turn_lease())
    clock.advance(seconds=LEASE.total_seconds() * 0.6)  # the turn's thread was slow to hand back
    assert asyncio.run(sender.send_turn(first, turned)).sent == 1
    clock.advance(minutes=3)  # `late` lapsed, and another sender looked it up and sent it
    assert asyncio.run(_sender(runtime, channel, "w2").run_once()).sent == 1
    assert asyncio.run(sender.send_turn(second, late)).sent == 0
    assert [key for _, key, _ in channel.sent] == [reply_key(turned.outbox or 0), reply_key(late.outbox or 0)]


def test_a_sender_on_a_channel_that_cannot_read_a_send_back_gives_turns_no_lease(runtime: Runtime) -> None:
    """A leased row left unsent would be looked up, and such a channel could only say "unknown"."""
    blind = FakePush("msteams")
    blind.reads_back = False
    assert _sender(runtime, blind).turn_lease() is None
    assert _sender(runtime, FakePush("slack")).turn_lease() == ReplyLease("w1", LEASE)


def test_a_turn_given_no_lease_is_claimed_before_it_is_sent(runtime: Runtime) -> None:
    port, channel = RuntimePort(runtime), FakePush("slack")
    inbound = _dm("report assault", "Ev1")
    turned = port.handle(inbound)
    assert turned.leased_until is None and _rows(runtime)[0].status == "pending"
    assert asyncio.run(_sender(runtime, channel).send_turn(inbound, turned)).sent == 1
    assert len(channel.sent) == 1 and _rows(runtime)[0].status == "sent"


def test_the_console_shows_its_replies_at_once_and_records_them_delivered(runtime: Runtime) -> None:
    port = RuntimePort(runtime)
    turned = port.handle(_dm("report assault", "Ev1", channel="console"))
    assert keys(port.shown(turned.outbox)) == keys(turned.replies)
    assert [(r.status, r.platform_message_id) for r in _rows(runtime)] == [("sent", "console")]
    assert port.shown(turned.outbox) == []  # shown once
    # A sender for a push channel never takes a console reply.
    assert asyncio.run(_sender(runtime, FakePush("slack")).run_once()).sent == 0


def test_an_unreachable_database_raises_not_stored(runtime: Runtime, tmp_path: Path) -> None:
    gone = make_engine(f"sqlite:///{tmp_path / 'no such folder' / 'bot.db'}")
    router = Router(pack=runtime.pack, sessions=make_sessions(gone), clock=runtime.clock)
    with pytest.raises(NotStored):
        router.answer(_dm("report assault", "Ev1"))


def test_replies_of_turns_finishing_together_share_their_claim_and_are_each_sent_once(
    runtime: Runtime,
) -> None:
    outboxes: list[int] = []
    for n in range(4):
        outbox = runtime.router.answer(_dm("report assault", f"Ev{n}", user=f"U{n}")).outbox
        assert outbox is not None
        outboxes.append(outbox)
    channel = FakePush("slack")
    sender = _sender(runtime, channel)
    claims: list[list[int]] = []
    records: list[list[int]] = []
    started, release = threading.Event(), threading.Event()
    claim, claim_together, record = sender._claim, sender._claim_together, sender._record

    def claiming(ids: Any) -> Any:
        claims.append(list(ids))
        started.set()
        assert release.wait(10)  # held until the other turns have finished
        return claim(ids)

    def claiming_together(batches: Any) -> Any:
        claims.append(sorted(row_id for ids in batches for row_id in ids))
        return claim_together(batches)

    def recording(outcomes: Any) -> Any:
        records.append([outcome.job.id for outcome in outcomes])
        return record(outcomes)

    sender._claim, sender._claim_together, sender._record = (  # type: ignore[method-assign]
        claiming,
        claiming_together,
        recording,
    )

    async def scenario() -> list[Any]:
        loop = asyncio.get_running_loop()
        first = loop.create_task(sender.deliver([outboxes[0]]))
        assert await asyncio.to_thread(started.wait, 10)
        # The same row asked for twice: only the first asking sends it.
        others = [loop.create_task(sender.deliver([row])) for row in outboxes[1:] + outboxes[-1:]]
        loop.call_soon(release.set)
        return list(await asyncio.gather(first, *others))

    reports = asyncio.run(scenario())
    assert [report.sent for report in reports] == [1, 1, 1, 1, 0]
    assert claims == [[outboxes[0]], sorted(outboxes[1:] + outboxes[-1:])]  # one shared claim
    assert sorted(row_id for batch in records for row_id in batch) == outboxes
    assert len(records) < len(outboxes)  # outcomes recorded together
    assert sorted(key for _, key, _ in channel.sent) == sorted(reply_key(row) for row in outboxes)
    assert {(row.status, row.claimed_by) for row in _rows(runtime)} == {("sent", None)}


def test_an_outcome_recorded_by_another_sender_is_left_alone_in_a_shared_record(
    runtime: Runtime, clock: FakeClock
) -> None:
    mine = runtime.router.answer(_dm("report assault", "Ev1", user="U1")).outbox
    theirs = runtime.router.answer(_dm("report assault", "Ev2", user="U2")).outbox
    assert mine is not None and theirs is not None
    channel = FakePush("slack")
    sender = _sender(runtime, channel)
    jobs = sender._claim([mine, theirs])
    with runtime.sessions.begin() as session:  # its lease lapsed and another sender took it over
        row = session.get(QueuedReply, theirs)
        assert row is not None
        row.claimed_by = "w2"
    counted = sender._record([_Outcome(job, delivery=Delivery("sent", message_id="m")) for job in jobs])
    assert counted == ["sent", None]
    assert [(row.status, row.claimed_by) for row in _rows(runtime)] == [("sent", None), ("sending", "w2")]


@pytest.mark.postgres
def test_a_claim_and_a_lone_outcome_each_commit_by_their_one_statement_on_postgresql(
    postgres_engine: Engine, clock: FakeClock
) -> None:
    """No `BEGIN` and `COMMIT` round trips around them (psycopg sends none in autocommit): two
    round trips for a reply sent, where there were seven. The turn before them keeps its transaction."""
    runtime = make_runtime(postgres_engine, clock)
    with autocommit_of_statements(postgres_engine) as autocommit:
        answered = runtime.router.answer(_dm("report assault", "Ev1"))
        assert answered.outbox is not None and autocommit and not any(autocommit)
        autocommit.clear()
        channel = FakePush("slack")
        report = asyncio.run(_sender(runtime, channel).deliver([answered.outbox]))
    assert report.sent == 1 and len(channel.sent) == 1
    assert autocommit == [True, True]  # the claim, then the outcome
    assert [row.status for row in _rows(runtime)] == ["sent"]
