"""The port channels talk to, served from the runtime: identity, event dedupe, the home view and its
actions, and the reminders a turn updates in place (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import conversation
from bot.channels.inbound import Inbound
from bot.channels.port import Known, Turned, Visitor
from bot.conversation import RuntimePort
from bot.reminders.delivery import answered_reminders
from bot.runtime import Runtime
from dialogs.types import ChoicePick, Reply
from store.models import AccessAudit, ChannelIdentity, Person, ProcessedEvent
from tests.bot.helpers import SUPERVISOR, VICTIM, point, report, sweep
from tests.bot.reminders.test_delivery import deliver, on_slack
from tests.channel import FakePush, keys
from tests.conftest import START, FakeClock

TENANT = "T0FORCE"
#: The supervisor's Slack account (`on_slack` links it) and the home they open there.
HOME = Visitor("slack", TENANT, "U0SUPERVISOR", SUPERVISOR, "Sgt Ravi Kaur")


def _account(email: str, user_id: str = "aad-0001", **fields: object) -> Inbound:
    return Inbound(channel="msteams", tenant="tenant-1", user_id=user_id, email=email, **fields)  # type: ignore[arg-type]


def _processed(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0


# --- who is this person --------------------------------------------------------------------------


def test_an_account_is_linked_to_the_person_with_its_work_email(runtime: Runtime) -> None:
    port = RuntimePort(runtime)
    assert port.known(channel="msteams", tenant="tenant-1", user_id="aad-0001") is None
    account = _account(VICTIM, display_name="PC Amy Hart", address={"serviceUrl": "http://127.0.0.1:1/"})
    assert port.link(account) == Known(VICTIM, "PC Amy Hart")
    assert port.known(channel="msteams", tenant="tenant-1", user_id="aad-0001") == Known(
        VICTIM, "PC Amy Hart"
    )
    # Another tenant's account with the same id is someone else until linked.
    assert port.known(channel="msteams", tenant="tenant-2", user_id="aad-0001") is None
    with runtime.sessions() as session:
        [identity] = session.scalars(select(ChannelIdentity)).all()
        assert (identity.person.email, identity.user_id) == (VICTIM, "aad-0001")
        assert identity.address == {"serviceUrl": "http://127.0.0.1:1/"}  # where to reach them later


def test_linking_once_per_event_links_nothing_on_a_resend(runtime: Runtime) -> None:
    port = RuntimePort(runtime)
    assert port.link(_account(VICTIM), event_id="install-1") == Known(VICTIM, None)
    assert port.link(_account(SUPERVISOR, "aad-0002"), event_id="install-1") is None
    assert port.known(channel="msteams", tenant="tenant-1", user_id="aad-0002") is None
    assert port.link(_account(SUPERVISOR, "aad-0002"), event_id="install-2") == Known(SUPERVISOR, None)


# --- events handled once ---------------------------------------------------------------------------


def test_an_event_is_handled_the_first_time_only_per_channel(runtime: Runtime) -> None:
    port = RuntimePort(runtime)
    assert port.first_time(channel="msteams", event_id="activity-1") is True
    assert port.first_time(channel="msteams", event_id="activity-1") is False
    assert port.first_time(channel="slack", event_id="activity-1") is True
    assert _processed(runtime) == 2


def test_a_resent_turn_gives_no_replies(runtime: Runtime) -> None:
    port = RuntimePort(runtime)
    said = _account(SUPERVISOR, text="report assault", event_id="activity-7")
    assert keys(port.handle(said).replies) == ["strings.report_intro", "strings.ask_victim_email"]
    assert port.handle(said).replies == []
    assert _processed(runtime) == 1


def test_a_refusal_is_audited_without_a_person(runtime: Runtime) -> None:
    RuntimePort(runtime).record_refusal(channel="slack", surface="command", reason="other_organisation")
    with runtime.sessions() as session:
        row = session.scalars(select(AccessAudit)).one()
    assert (row.person_id, row.case_id, row.surface, row.action) == (None, None, "slack", "refused")
    assert row.detail == "command: other_organisation"


# --- the home view and its actions -----------------------------------------------------------------


def test_the_home_view_lists_the_open_case_and_closing_a_point_removes_it(runtime: Runtime) -> None:
    reference = report(runtime)
    port = RuntimePort(runtime)
    [case] = port.home(HOME)
    assert case.reference == reference
    crime = point(runtime, reference, "crime_recorded")
    assert crime.id in {p.id for p in case.points}
    marked = port.mark_point(HOME, reference=reference, point_id=crime.id, status="done")
    assert (marked.outcome, marked.updates) == ("done", [])  # no reminder was sent yet
    [case] = port.home(HOME)
    assert crime.id not in {p.id for p in case.points}
    assert point(runtime, reference, "crime_recorded").status == "done"


def test_a_colleague_without_a_part_in_the_case_cannot_close_its_points(runtime: Runtime) -> None:
    reference = report(runtime)
    stranger = Visitor("slack", TENANT, "U0STRANGER", "pc.nosey.parker@example.police.uk")
    port = RuntimePort(runtime)
    assert port.home(stranger) == []
    crime = point(runtime, reference, "crime_recorded")
    marked = port.mark_point(stranger, reference=reference, point_id=crime.id, status="done")
    # As for a reference that names no case: trying references tells a stranger nothing.
    assert (marked.outcome, marked.updates) == ("not_found", [])
    assert point(runtime, reference, "crime_recorded").status == "open"
    with runtime.sessions() as session:
        refused = session.scalars(
            select(AccessAudit.action)
            .join(Person, AccessAudit.person_id == Person.id)
            .where(Person.email == stranger.email)
        )
        assert list(refused) == ["denied"]


# --- reminders updated in place --------------------------------------------------------------------


def _reminded(runtime: Runtime, clock: FakeClock) -> tuple[str, FakePush]:
    """A case, its supervisor on Slack, and the day's reminder delivered there (message `m1`)."""
    reference = report(runtime, consent="no")  # no leaflet, so no request to hand it over either
    on_slack(runtime, user_id=HOME.user_id)
    clock.now = START + timedelta(hours=25)
    assert sweep(runtime, clock.now).queued == 1
    slack = FakePush()
    assert deliver(runtime, slack).sent == 1
    return reference, slack


def _open_buttons(replies: Sequence[Reply]) -> int:
    return sum(1 for reply in replies if reply.choices)


def test_closing_a_point_from_home_updates_the_reminder_that_listed_it(
    runtime: Runtime, clock: FakeClock
) -> None:
    reference, slack = _reminded(runtime, clock)
    listed = _open_buttons(slack.sent[0][2])
    crime = point(runtime, reference, "crime_recorded")
    marked = RuntimePort(runtime).mark_point(HOME, reference=reference, point_id=crime.id, status="done")
    assert marked.outcome == "done"
    [update] = marked.updates
    assert update.message_id == "m1"
    assert _open_buttons(update.replies) == listed - 1


def test_a_press_in_the_reminder_updates_it_on_that_channel_only(runtime: Runtime, clock: FakeClock) -> None:
    reference, slack = _reminded(runtime, clock)
    crime = f"/{reference}/{point(runtime, reference, 'crime_recorded').id}/"
    [done] = [
        ChoicePick(step=reply.step, value="done")
        for reply in slack.sent[0][2]
        if reply.step and crime in reply.step
    ]
    port = RuntimePort(runtime)
    press = Inbound(channel="slack", tenant=TENANT, user_id=HOME.user_id, email=SUPERVISOR, pick=done)
    turned = port.handle(press)
    [update] = turned.updates
    assert update.message_id == "m1"
    assert _open_buttons(update.replies) == _open_buttons(slack.sent[0][2]) - 1
    # The same person talking on Teams has no Slack message to update.
    assert port.handle(_account(SUPERVISOR, text="help")).updates == []


def test_only_a_turn_that_ran_an_effect_looks_for_reminders_it_answered(
    runtime: Runtime, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _reminded(runtime, clock)  # a reminder the look-up could find
    looked: list[str] = []

    def answered(*args: Any, **kwargs: Any) -> list[tuple[str, list[Reply]]]:
        looked.append(kwargs["channel"])
        return answered_reminders(*args, **kwargs)

    monkeypatch.setattr(conversation, "answered_reminders", answered)
    port = RuntimePort(runtime)

    def say(text: str) -> Turned:
        return port.handle(
            Inbound(channel="slack", tenant=TENANT, user_id=HOME.user_id, email=SUPERVISOR, text=text)
        )

    assert say("menu").updates == [] and looked == []
    assert say("my cases").updates == [] and looked == ["slack"]


def test_assigning_the_io_updates_the_reminder_that_asked_for_one(runtime: Runtime, clock: FakeClock) -> None:
    """The bot closes 'investigating officer assigned' on the supervisor's turn: that button goes too."""
    reference, slack = _reminded(runtime, clock)
    assigned = f"/{reference}/{point(runtime, reference, 'investigator_assigned').id}/"
    assert any(reply.step and assigned in reply.step for reply in slack.sent[0][2])
    port = RuntimePort(runtime)
    turned = None
    for text in ("my cases", reference, "assign the investigating officer", "sgt.tom.reid@example.police.uk"):
        turned = port.handle(
            Inbound(channel="slack", tenant=TENANT, user_id=HOME.user_id, email=SUPERVISOR, text=text)
        )
    assert turned is not None and keys(turned.replies)[0] == "strings.io_assigned"
    [update] = turned.updates
    assert update.message_id == "m1"
    assert not any(reply.choices and reply.step and assigned in reply.step for reply in update.replies)
    assert _open_buttons(update.replies) == _open_buttons(slack.sent[0][2]) - 1
