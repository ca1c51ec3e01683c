"""Delivery: every nudge exactly once, across failures, crashes and several workers."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.channels.outbound import Address, Delivery, Pace
from bot.reminders.delivery import Deliverer, DeliveryReport, take_for_console
from bot.runtime import Runtime
from dialogs.types import Reply
from store.models import Nudge, Person, PlanPoint
from store.outbox import lapsed_claims
from store.people import ensure_identity
from tests.bot.helpers import SUPERVISOR, report, sweep
from tests.channel import FakePush
from tests.conftest import START, FakeClock
from tests.store.test_outbox import backlog

DUE = START + timedelta(hours=25)


def on_slack(runtime: Runtime, email: str = SUPERVISOR, user_id: str = "U0SUPERVISOR") -> None:
    with runtime.sessions.begin() as session:
        person = session.scalar(select(Person).where(Person.email == email))
        assert person is not None
        ensure_identity(
            session=session,
            person=person,
            channel="slack",
            tenant="T0FORCE",
            user_id=user_id,
            now=runtime.clock(),
        )


def deliver(runtime: Runtime, channel: FakePush, worker: str = "w1", **options: Any) -> DeliveryReport:
    deliverer = Deliverer(
        pack=runtime.pack,
        sessions=runtime.sessions,
        clock=runtime.clock,
        channels={channel.name: channel},
        worker=worker,
        **options,
    )
    return asyncio.run(deliverer.run_once())


def statuses(runtime: Runtime) -> Counter[str]:
    with runtime.sessions() as session:
        return Counter(session.scalars(select(Nudge.status)))


@pytest.fixture
def queued(runtime: Runtime, clock: FakeClock) -> int:
    """A case opened, its supervisor on Slack, and its first day's nudges queued."""
    report(runtime, consent="no")
    on_slack(runtime)
    clock.now = DUE
    return sweep(runtime, DUE).queued


def test_each_nudge_is_sent_once_with_its_message_id(runtime: Runtime, queued: int) -> None:
    slack = FakePush()
    assert deliver(runtime, slack).sent == queued
    assert deliver(runtime, slack).sent == 0
    assert len(slack.sent) == queued and {user for user, _, _ in slack.sent} == {"U0SUPERVISOR"}
    with runtime.sessions() as session:
        rows = session.scalars(select(Nudge)).all()
    assert all(r.status == "sent" and r.platform_message_id and r.channel == "slack" for r in rows)
    assert queued == 1  # the day's seven points, in one reminder
    header, *points = slack.sent[0][2]
    assert header.key == "strings.nudge" and len(points) == 7
    assert all([c.value for c in reply.choices] == ["done", "not_applicable", "snooze"] for reply in points)


def test_nudges_carry_no_account_of_the_incident(runtime: Runtime, queued: int) -> None:
    slack = FakePush()
    deliver(runtime, slack)
    sent = " ".join(
        r.text + " ".join(f.value for f in r.facts) for _, _, replies in slack.sent for r in replies
    )
    for detail in ("Broad Street", "pc.amy.hart", "spitting", "Spitting"):
        assert detail not in sent
    with runtime.sessions() as session:
        payloads = " ".join(str(p) for p in session.scalars(select(Nudge.payload)))
    assert "Broad Street" not in payloads and "pc.amy.hart" not in payloads


def test_a_transient_failure_is_retried_later_not_lost(
    runtime: Runtime, queued: int, clock: FakeClock
) -> None:
    slack = FakePush(script=["503"] * queued)
    result = deliver(runtime, slack)
    assert (result.sent, result.retrying) == (0, queued)
    assert deliver(runtime, slack).sent == 0  # backing off
    clock.advance(minutes=3)
    assert deliver(runtime, slack).sent == queued
    assert statuses(runtime) == Counter({"sent": queued})


def test_a_worker_killed_after_sending_is_reconciled_without_a_duplicate(
    runtime: Runtime, queued: int, clock: FakeClock
) -> None:
    slack = FakePush(script=["crash"])
    with pytest.raises(SystemExit):
        deliver(runtime, slack, worker="dies")
    assert statuses(runtime)["sending"] >= 1
    clock.advance(minutes=6)  # the dead worker's lease runs out
    result = deliver(runtime, slack, worker="survivor")
    assert result.reconciled >= 1
    keys = [key for _, key, _ in slack.sent]
    assert len(keys) == len(set(keys)) == queued  # every nudge arrived, none twice
    assert statuses(runtime) == Counter({"sent": queued})


def test_an_uncertain_send_is_checked_before_sending_again(
    runtime: Runtime, queued: int, clock: FakeClock
) -> None:
    slack = FakePush(script=["timeout"])
    assert deliver(runtime, slack).uncertain == 1
    clock.advance(minutes=2)
    assert deliver(runtime, slack).reconciled == 1
    assert len(slack.sent) == queued and len(slack.lookups) == 1


def test_a_send_that_never_arrived_is_sent_again(runtime: Runtime, queued: int, clock: FakeClock) -> None:
    slack = FakePush(script=["timeout"])
    deliver(runtime, slack)
    slack.sent.clear()
    slack.answer_lookup = "absent"
    clock.advance(minutes=2)
    assert deliver(runtime, slack).sent == 1


def close_every_point(runtime: Runtime, clock: FakeClock) -> None:
    """Close every point (by the bot, say) while a send's outcome is still unknown."""
    with runtime.sessions.begin() as session:
        session.execute(update(PlanPoint).values(status="done", done_at=clock.now, next_nudge_at=None))


def test_a_send_that_may_have_arrived_is_looked_up_not_withdrawn(
    runtime: Runtime, queued: int, clock: FakeClock
) -> None:
    slack = FakePush(script=["timeout"])
    deliver(runtime, slack)
    close_every_point(runtime, clock)
    clock.advance(minutes=2)
    result = deliver(runtime, slack)  # the platform has it: recorded sent, with its message id
    assert (result.reconciled, result.withdrawn) == (1, 0) and len(slack.lookups) == 1
    assert statuses(runtime) == Counter({"sent": queued})


def test_a_send_that_never_arrived_leaves_out_points_closed_since(
    runtime: Runtime, queued: int, clock: FakeClock
) -> None:
    slack = FakePush(script=["timeout"])
    deliver(runtime, slack)
    slack.sent.clear()
    slack.answer_lookup = "absent"
    close_every_point(runtime, clock)
    clock.advance(minutes=2)
    result = deliver(runtime, slack)
    assert (result.sent, result.withdrawn, slack.sent) == (0, 1, [])
    assert statuses(runtime) == Counter({"withdrawn": queued})


def test_when_the_platform_cannot_tell_nothing_is_resent(
    runtime: Runtime, queued: int, clock: FakeClock
) -> None:
    slack = FakePush(script=["timeout"])
    deliver(runtime, slack)
    slack.answer_lookup = "unknown"
    clock.advance(minutes=2)
    assert deliver(runtime, slack).unconfirmed == 1
    assert len(slack.sent) == queued
    assert statuses(runtime)["unconfirmed"] == 1


def test_a_permanent_failure_is_recorded_after_the_last_attempt(
    runtime: Runtime, queued: int, clock: FakeClock
) -> None:
    slack = FakePush(script=["403"] * 100)
    for _ in range(8):
        deliver(runtime, slack)
        clock.advance(hours=2)
    assert statuses(runtime) == Counter({"failed": queued})


def test_a_person_without_a_push_channel_gets_them_in_the_console(runtime: Runtime, clock: FakeClock) -> None:
    report(runtime, consent="no")
    clock.now = DUE
    queued = sweep(runtime, DUE).queued
    assert deliver(runtime, FakePush()).held == queued
    with runtime.sessions() as session:
        person = session.scalar(select(Person).where(Person.email == SUPERVISOR))
        assert person is not None
    replies = take_for_console(runtime.pack, sessions=runtime.sessions, person_id=person.id, now=clock.now)
    assert queued == 1 and [r.key for r in replies] == ["strings.nudge"] + ["strings.nudge_point"] * 7
    assert take_for_console(runtime.pack, sessions=runtime.sessions, person_id=person.id, now=clock.now) == []
    assert statuses(runtime) == Counter({"sent": queued})


def test_a_held_message_goes_out_once_the_person_is_on_slack(runtime: Runtime, clock: FakeClock) -> None:
    report(runtime, consent="no")
    clock.now = DUE
    queued = sweep(runtime, DUE).queued
    slack = FakePush()
    deliver(runtime, slack)
    on_slack(runtime)
    clock.advance(hours=1, minutes=1)
    assert deliver(runtime, slack).sent == queued


@pytest.mark.postgres
def test_two_workers_at_once_send_each_nudge_once(postgres_engine: object, clock: FakeClock) -> None:
    from tests.conftest import make_runtime

    runtime = make_runtime(postgres_engine, clock)  # type: ignore[arg-type]
    for number in range(5):
        report(runtime, victim=f"pc.victim{number}@example.police.uk", consent="no")
    on_slack(runtime)
    clock.now = DUE
    queued = sweep(runtime, DUE).queued
    channels = [FakePush(), FakePush()]
    barrier = threading.Barrier(2)

    def work(index: int) -> None:
        barrier.wait()
        deliverer = Deliverer(
            pack=runtime.pack,
            sessions=runtime.sessions,
            clock=runtime.clock,
            channels={"slack": channels[index]},
            worker=f"w{index}",
            batch=3,
        )
        asyncio.run(deliverer.run_once())

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys = [key for channel in channels for _, key, _ in channel.sent]
    # Which worker sends what depends on who claims first (one may claim every batch, the next
    # ahead too): what must hold is that each nudge went out once.
    assert len(keys) == len(set(keys)) == queued


class _WhileSending(FakePush):
    """A channel that, while its first message is out, lets something happen to the batch claimed
    ahead (once that claim has been made: it runs beside the send)."""

    def __init__(self, runtime: Runtime, meanwhile: Callable[[], None]) -> None:
        super().__init__()
        self.runtime, self.meanwhile = runtime, meanwhile

    def _ahead_claimed(self) -> bool:
        with self.runtime.sessions() as session:
            return session.scalar(select(func.count()).where(Nudge.status == "sending")) == 2

    async def send(
        self, address: Address, replies: Sequence[Reply], *, key: str | None = None, pace: Pace | None = None
    ) -> Delivery:
        if not self.sent:
            for _ in range(1000):  # bounded: the claim ahead is one short transaction
                if await asyncio.to_thread(self._ahead_claimed):
                    break
                await asyncio.sleep(0.005)
            else:
                raise AssertionError("the next batch was never claimed ahead")
            self.meanwhile()
        return await super().send(address, replies, key=key, pace=pace)


def two_reminders(runtime: Runtime, clock: FakeClock) -> None:
    """Two cases, so two reminders for the supervisor: with batches of one, the second is claimed
    while the first is sent."""
    report(runtime, consent="no")
    report(runtime, victim="pc.ben.ward@example.police.uk", consent="no")
    on_slack(runtime)
    clock.now = DUE
    assert sweep(runtime, DUE).queued == 2


def deliver_in_ones(runtime: Runtime, channel: FakePush) -> DeliveryReport:
    return deliver(runtime, channel, batch=1)


def test_a_batch_claimed_ahead_is_left_to_a_worker_that_took_it_over(
    runtime: Runtime, clock: FakeClock
) -> None:
    two_reminders(runtime, clock)

    def taken_over() -> None:  # its lease lapsed while it waited, and another worker took it
        with runtime.sessions.begin() as session:
            ahead = session.scalar(select(func.max(Nudge.id)).where(Nudge.status == "sending"))
            session.execute(update(Nudge).where(Nudge.id == ahead).values(claimed_by="w2"))

    slack = _WhileSending(runtime, taken_over)
    assert deliver_in_ones(runtime, slack).sent == 1
    assert len(slack.sent) == 1
    assert statuses(runtime) == Counter({"sent": 1, "sending": 1})


def test_a_batch_claimed_ahead_leaves_out_points_closed_while_it_waited(
    runtime: Runtime, clock: FakeClock
) -> None:
    two_reminders(runtime, clock)
    slack = _WhileSending(runtime, lambda: close_every_point(runtime, clock))
    result = deliver_in_ones(runtime, slack)
    assert (result.sent, result.withdrawn, len(slack.sent)) == (1, 1, 1)
    assert statuses(runtime) == Counter({"sent": 1, "withdrawn": 1})


def test_a_message_waiting_longer_than_its_lease_is_not_taken_by_another_worker(
    runtime: Runtime, queued: int, clock: FakeClock
) -> None:
    # The rate limiter (or a Retry-After) may hold a message for longer than its lease: its lease
    # is kept fresh meanwhile, so a second worker (another instance, cron) never sends it too.
    taken: list[int] = []

    class Waits(FakePush):
        async def send(
            self,
            address: Address,
            replies: Sequence[Reply],
            *,
            key: str | None = None,
            pace: Pace | None = None,
        ) -> Delivery:
            if not self.sent:
                clock.advance(minutes=6)  # past the 5-minute lease, while waiting to be sent
                for _ in range(1000):  # bounded: the renewal is one short transaction
                    if await asyncio.to_thread(renewed):
                        break
                    await asyncio.sleep(0.005)
                with runtime.sessions.begin() as session:
                    taken.extend(
                        row.id
                        for row in lapsed_claims(
                            session=session, now=clock.now, worker="w2", lease=timedelta(minutes=5), limit=100
                        )
                    )
            return await super().send(address, replies, key=key, pace=pace)

    def renewed() -> bool:
        with runtime.sessions() as session:
            leases = session.scalars(select(Nudge.claimed_until).where(Nudge.status == "sending"))
            return all(until is not None and until > clock.now for until in leases)

    async def heartbeat(seconds: float) -> None:  # a lease's third passes at once
        await asyncio.sleep(0.001)

    slack = Waits()
    result = deliver(runtime, slack, sleep=heartbeat)
    assert taken == []
    assert result.sent == queued and len(slack.sent) == queued


def test_a_thousand_held_rows_never_delay_the_ones_that_can_be_sent_and_urgent_ones_go_first(
    runtime: Runtime, clock: FakeClock
) -> None:
    """1,000 older messages for people the bot cannot reach, then 50 it can, then 2 urgent ones:
    the first batch claimed is the 52 that can be sent, urgent first; the others wait as held."""
    backlog(runtime.sessions, unreachable=1000, reachable=50, urgent=2)
    clock.now = START + timedelta(days=1)
    claimed_at_first_send: list[int] = []

    class Watching(FakePush):
        async def send(self, address: Address, replies: Sequence[Reply], **options: Any) -> Delivery:
            if not claimed_at_first_send:  # sends run concurrently: the first to get here
                with runtime.sessions() as session:
                    claimed_at_first_send.append(
                        session.scalar(select(func.count()).where(Nudge.status == "sending")) or 0
                    )
            return await super().send(address, replies, **options)

    slack = Watching()
    result = deliver(runtime, slack, batch=52)
    assert (result.sent, result.held) == (52, 1000)
    assert claimed_at_first_send == [52]  # one claim, of exactly the rows that could be sent
    users = [user for user, _, _ in slack.sent]
    assert users[:2] == ["U1050", "U1051"] and sorted(users[2:]) == sorted(f"U{n}" for n in range(1000, 1050))
    assert statuses(runtime) == Counter({"held": 1000, "sent": 52})
