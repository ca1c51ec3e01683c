"""Slack end to end: signed HTTP requests to the running /slack/events, Slack mocked at its Web API.

Every conversation of the console works in Slack (the transcripts run again over Slack, with
buttons), the App Home, the security rules (signatures, workspaces, Slack Connect, retries) and
the sending seam (429 with Retry-After). Every Block Kit payload the bot sends in these tests is
validated at the end of each test, against the schema and slack_sdk's models.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.channels.outbound import Address, RetryPolicy
from bot.channels.slack.adapter import SlackChannel, SlackConfigError, make_slack_channel, run_socket_mode
from bot.channels.slack.manifest import METHOD_SCOPES
from bot.cli import main
from bot.runtime import Runtime
from bot.settings import Settings
from dialogs.schema import Pack
from dialogs.types import Reply
from store.models import (
    AccessAudit,
    Case,
    ChannelIdentity,
    DialogStateRow,
    InboxItem,
    Person,
    PlanPoint,
    ProcessedEvent,
    QueuedReply,
)
from store.people import add_role, ensure_person
from tests.bot.test_transcripts import TRANSCRIPTS, run_transcript
from tests.conftest import FakeClock, turn_leases
from tests.slack_block_kit import assert_valid_blocks, assert_valid_view
from tests.slack_mock import BOT_TOKEN, OTHER_TEAM, TEAM, Call, SlackRig, reply_keys

SERGEANT = "U0SGTKAUR"
VICTIM = "U0PCHART"
OFFICER = "U0PCWARD"
STRANGER = "U0EXTERNAL"  # another police force's officer, met through Slack Connect
GUEST = "U0GUEST"
NO_WORK_EMAIL = "U0GMAIL"


def _people(rig: SlackRig) -> None:
    rig.mock.add_user(SERGEANT, "sgt.ravi.kaur@example.police.uk", name="Sgt Ravi Kaur")
    rig.mock.add_user(VICTIM, "pc.amy.hart@example.police.uk", name="PC Amy Hart")
    rig.mock.add_user(OFFICER, "pc.ben.ward@example.police.uk", name="PC Ben Ward")
    rig.mock.add_user(STRANGER, "pc.jo.north@othershire.police.uk", team=OTHER_TEAM, is_stranger=True)
    rig.mock.add_user(GUEST, "contractor@example.police.uk", is_restricted=True)
    rig.mock.add_user(NO_WORK_EMAIL, "ravi.kaur@example.com")


def _validate(call: Call) -> None:
    """Every Block Kit payload sent, checked against the schema and slack_sdk's models."""
    if call.method in ("chat.postMessage", "chat.postEphemeral"):
        assert call.args.get("text"), f"{call.method} without top-level text"
        assert len(call.args["blocks"]) <= 50
        assert_valid_blocks(call.args["blocks"])
    elif call.method in ("views.publish", "views.open"):
        assert_valid_view(call.args["view"])


@pytest.fixture
def rig(runtime: Runtime) -> Iterator[SlackRig]:
    rig = SlackRig(runtime)
    _people(rig)
    yield rig
    rig.close()
    for call in rig.mock.calls:
        _validate(call)
    # The manifest's scopes cover every Web API method the bot used.
    assert {c.method for c in rig.mock.calls} <= set(METHOD_SCOPES) | {"apps.connections.open"}


def _count(runtime: Runtime, model: Any, *where: Any) -> int:
    with runtime.sessions.begin() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _keys(messages: list[dict[str, Any]]) -> list[str]:
    return [key for message in messages for key in reply_keys(message["blocks"])]


# --- the console's conversations, over Slack ------------------------------------------------------


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript_over_slack(path: Path, rig: SlackRig, runtime: Runtime, clock: FakeClock) -> None:
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    run_transcript(script, runtime, clock, talk_as=rig.talk_as)


def test_report_through_dms_opens_the_case(rig: SlackRig, runtime: Runtime) -> None:
    _report(rig)
    with runtime.sessions.begin() as session:
        case = session.scalars(select(Case)).one()
        assert case.reporter.email == "sgt.ravi.kaur@example.police.uk"
        assert case.victim.email == "pc.amy.hart@example.police.uk"
        assert case.submission_key.startswith("slack:")
        identity = session.scalars(select(ChannelIdentity).where(ChannelIdentity.channel == "slack")).one()
        assert (identity.tenant, identity.address) == (TEAM, {"team": TEAM, "user": identity.user_id})
        assert session.scalar(select(AccessAudit.surface).where(AccessAudit.action == "create")) == "slack"
    assert _count(runtime, InboxItem) == 0  # every piece of work finished and forgotten


def test_identity_is_looked_up_once_then_stored(rig: SlackRig) -> None:
    rig.dm(OFFICER, "federation")
    rig.dm(OFFICER, "done")
    assert len(rig.mock.calls_to("users.info")) == 1
    assert _keys(rig.messages_to(OFFICER)) == [
        "strings.directory_results",
        "strings.directory_after_last",
        "strings.directory_finish",
        "strings.anything_else",
    ]


# --- surfaces --------------------------------------------------------------------------------------


def test_url_verification(rig: SlackRig) -> None:
    assert rig.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P").json() == {
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    }


def test_a_mention_points_to_the_dm_and_never_talks_in_the_channel(rig: SlackRig) -> None:
    assert rig.mention(SERGEANT, "report assault", channel="C0GENERAL").status == 200
    [pointer] = rig.mock.calls_to("chat.postEphemeral")
    assert (pointer.args["channel"], pointer.args["user"]) == ("C0GENERAL", SERGEANT)
    assert reply_keys(pointer.args["blocks"]) == [] and "direct message" in pointer.args["text"]
    assert _keys(rig.messages_to(SERGEANT)) == ["strings.report_intro", "strings.ask_victim_email"]
    assert all(c.args["channel"] == SERGEANT for c in rig.mock.calls_to("chat.postMessage"))


def test_slash_command_answers_ephemerally_and_continues_in_the_dm(rig: SlackRig) -> None:
    answer = rig.command(OFFICER, "contacts federation")
    assert answer.status == 200
    assert answer.json()["response_type"] == "ephemeral"
    assert _keys(rig.messages_to(OFFICER)) == ["strings.directory_results", "strings.directory_after_last"]
    rig.command(OFFICER, "help")
    assert _keys(rig.messages_to(OFFICER))[-2:] == ["strings.help_general", "strings.directory_after_last"]
    rig.command(OFFICER, "next")
    assert _keys(rig.messages_to(OFFICER))[-2:] == ["strings.next_overview", "strings.next_topics"]
    rig.command(OFFICER, "cases")
    assert _keys(rig.messages_to(OFFICER))[-2:] == ["strings.my_cases_none", "strings.anything_else"]


def test_shortcut_starts_the_report_in_the_dm(rig: SlackRig) -> None:
    assert rig.shortcut(SERGEANT).status == 200
    assert _keys(rig.messages_to(SERGEANT)) == ["strings.report_intro", "strings.ask_victim_email"]


def _report(rig: SlackRig) -> None:
    """The sergeant's report of report_assault.yaml, through Slack: one open case."""
    script = yaml.safe_load((TRANSCRIPTS[0].parent / "report_assault.yaml").read_text(encoding="utf-8"))
    run_transcript(script, rig.runtime, rig.clock, talk_as=rig.talk_as)  # type: ignore[arg-type]


def _last_home(rig: SlackRig, user: str) -> dict[str, Any]:
    views = [c.args["view"] for c in rig.mock.calls_to("views.publish") if c.args["user_id"] == user]
    assert views, f"no Home published for {user}"
    return views[-1]


def _home_buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_app_home_shows_the_persons_open_cases_with_point_buttons(rig: SlackRig, runtime: Runtime) -> None:
    _report(rig)
    reporter = next(c.args["channel"] for c in rig.mock.calls_to("chat.postMessage"))
    rig.home_opened(reporter)
    view = _last_home(rig, reporter)
    with runtime.sessions.begin() as session:
        case = session.scalars(select(Case)).one()
        open_points = [p.id for p in case.points if p.status == "open"]
        reference = case.reference
    text = json.dumps(view)
    assert reference in text
    done = [b for b in _home_buttons(view) if b["action_id"].startswith("done:")]
    assert sorted(int(b["action_id"].split(":")[1]) for b in done) == sorted(open_points)
    assert all(b.get("confirm") for b in done)  # marking done asks first
    assert {b["action_id"] for b in _home_buttons(view)} >= {
        "start:report_assault",
        "start:what_happens_next",
        "start:my_cases",
        "search_go",
    }
    # The listing is audited as a view of the case, through Slack.
    assert _count(runtime, AccessAudit, AccessAudit.action == "view", AccessAudit.surface == "slack") >= 1

    # Done, from the Home: the point closes through the same effects (access rules, audit).
    rig.click(reporter, done[0], home=True)
    with runtime.sessions.begin() as session:
        point = session.get(PlanPoint, int(done[0]["action_id"].split(":")[1]))
        assert point is not None and point.status == "done" and point.done_by_id is not None
    republished = _last_home(rig, reporter)
    assert done[0]["action_id"] not in {b["action_id"] for b in _home_buttons(republished)}

    # Not applicable: a modal asks why; the reason is recorded with the point.
    na = next(b for b in _home_buttons(republished) if b["action_id"].startswith("not_applicable:"))
    rig.click(reporter, na, home=True)
    [opened] = rig.mock.calls_to("views.open")
    modal = opened.args["view"]
    assert modal["type"] == "modal"
    blank = rig.submit_view(
        reporter, modal, {"reason": {"reason": {"type": "plain_text_input", "value": "  "}}}
    )
    assert blank.json()["response_action"] == "errors"
    reason = {"reason": {"reason": {"type": "plain_text_input", "value": "Done by the custody sergeant"}}}
    assert rig.submit_view(reporter, modal, reason).body == ""
    with runtime.sessions.begin() as session:
        point = session.get(PlanPoint, int(na["action_id"].split(":")[1]))
        assert point is not None and (point.status, point.na_reason) == (
            "not_applicable",
            "Done by the custody sergeant",
        )


def test_home_buttons_start_flows_in_the_dm(rig: SlackRig) -> None:
    rig.home_opened(OFFICER)
    buttons = {b["action_id"]: b for b in _home_buttons(_last_home(rig, OFFICER))}
    rig.click(OFFICER, buttons["start:what_happens_next"], home=True)
    assert _keys(rig.messages_to(OFFICER)) == ["strings.next_overview", "strings.next_topics"]
    state = {"search": {"search": {"type": "plain_text_input", "value": "chaplain"}}}
    rig.click(OFFICER, buttons["search_go"], home=True, state=state)
    assert _keys(rig.messages_to(OFFICER))[-2:] == [
        "strings.directory_results",
        "strings.directory_after_last",
    ]
    typed = {"action_id": "search", "type": "plain_text_input", "value": "fed"}
    rig.click(OFFICER, typed, home=True)
    assert _keys(rig.messages_to(OFFICER))[-2:] == [
        "strings.directory_results",
        "strings.directory_after_last",
    ]


def test_home_cannot_close_a_point_of_someone_elses_case(rig: SlackRig, runtime: Runtime) -> None:
    _report(rig)
    with runtime.sessions.begin() as session:
        case = session.scalars(select(Case)).one()
        point = next(p for p in case.points if p.status == "open")
        forged = {"action_id": f"done:{point.id}", "value": json.dumps({"c": case.reference, "p": point.id})}
    rig.click(OFFICER, forged, home=True)
    with runtime.sessions.begin() as session:
        assert session.get(PlanPoint, point.id).status == "open"  # type: ignore[union-attr]
    assert _count(runtime, AccessAudit, AccessAudit.action == "denied") == 1


# --- security -------------------------------------------------------------------------------------


def _nothing_processed(rig: SlackRig, runtime: Runtime) -> None:
    assert rig.mock.calls == []
    for model in (InboxItem, ProcessedEvent, DialogStateRow, Person):
        assert _count(runtime, model) == 0, model.__name__


def _signed_dm(rig: SlackRig, text: str = "report assault") -> bytes:
    return json.dumps(rig.envelope(rig.message_event(SERGEANT, text))).encode()


def test_unsigned_or_badly_signed_requests_are_refused(rig: SlackRig, runtime: Runtime) -> None:
    body = _signed_dm(rig)
    good = rig.signed_headers(body)
    now = int(rig.clock().timestamp())
    cases = {
        "no headers": ({}, body),
        "wrong secret": ({**good, "X-Slack-Signature": "v0=" + "0" * 64}, body),
        "one byte changed": (good, body.replace(b"report", b"rePort")),
        "old": (rig.signed_headers(body, timestamp=now - 301), body),
        "from the future": (rig.signed_headers(body, timestamp=now + 301), body),
        "timestamp not a number": ({**good, "X-Slack-Request-Timestamp": "soon"}, body),
        "signature not hex": ({**good, "X-Slack-Signature": "v0=zz"}, body),
        "not utf-8": (rig.signed_headers(b"\xff\xfe"), b"\xff\xfe"),
    }
    for name, (headers, sent) in cases.items():
        answer = rig.post(sent, "application/json", headers=headers, sign=False)
        assert (answer.status, answer.json()) == (401, {"error": "invalid request"}), name
    _nothing_processed(rig, runtime)
    fresh = rig.signed_headers(body, timestamp=now - 299)
    assert rig.post(body, "application/json", headers=fresh, sign=False).status == 200


def test_a_replayed_request_is_processed_once(rig: SlackRig, runtime: Runtime) -> None:
    body = _signed_dm(rig)
    for _ in range(3):
        assert rig.post(body, "application/json").status == 200
    assert _keys(rig.messages_to(SERGEANT)) == ["strings.report_intro", "strings.ask_victim_email"]


def test_slack_retries_are_processed_once(rig: SlackRig, runtime: Runtime) -> None:
    body = _signed_dm(rig)
    # The first delivery and two retries arrive before the first is finished, then a late one.
    for retry in (None, "1", "2"):
        headers = {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        assert rig.post(body, "application/json", headers=headers, settle=False).status == 200
    rig.settle()
    rig.post(
        body, "application/json", headers={"X-Slack-Retry-Num": "3", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert _keys(rig.messages_to(SERGEANT)) == ["strings.report_intro", "strings.ask_victim_email"]
    assert _count(runtime, ProcessedEvent) == 1


def test_no_request_body_reaches_the_logs(rig: SlackRig, caplog: pytest.LogCaptureFixture) -> None:
    canary = "Canary Street 4242"
    caplog.set_level(logging.DEBUG)
    body = json.dumps(rig.envelope(rig.message_event(SERGEANT, canary))).encode()
    rig.post(body, "application/json", headers={"X-Slack-Signature": "v0=" + "1" * 64}, sign=False)
    rig.post(body, "application/json", headers={"X-Slack-Request-Timestamp": "x"}, sign=False)
    rig.dm(SERGEANT, "report assault")
    rig.dm(SERGEANT, "pc.amy.hart@example.police.uk")
    rig.dm(SERGEANT, canary)  # an answer nobody asked for, still never logged
    rig.dm(STRANGER, canary)
    rig.command(SERGEANT, f"contacts {canary}")
    assert rig.messages_to(SERGEANT)
    assert canary not in caplog.text
    assert "rejected" in caplog.text  # the rejection itself is logged


def test_another_workspace_is_refused(rig: SlackRig, runtime: Runtime) -> None:
    envelope = rig.envelope(rig.message_event(SERGEANT, "my cases"), team=OTHER_TEAM)
    assert rig.post_json(envelope).status == 200
    assert _keys(rig.messages_to(SERGEANT)) == []
    [refusal] = rig.messages_to(SERGEANT)
    assert refusal["text"] == _refusal_text(rig, "slack_other_organisation")
    assert rig.mock.calls_to("users.info") == []  # never looked up, never linked to anyone
    assert _count(runtime, Person) == 0 and _count(runtime, DialogStateRow) == 0
    assert _count(runtime, AccessAudit, AccessAudit.action == "refused") == 1
    answer = rig.command(SERGEANT, "cases", team=OTHER_TEAM)
    assert answer.json()["response_type"] == "ephemeral"
    assert len(rig.messages_to(SERGEANT)) == 1  # told in the acknowledgement, nothing in the DM
    rig.settle()
    assert _count(runtime, AccessAudit, AccessAudit.action == "refused") == 2


def _refusal_text(rig: SlackRig, key: str) -> str:
    return rig.runtime.pack.text(f"strings.{key}")


def test_slack_connect_and_guests_are_refused_politely(rig: SlackRig, runtime: Runtime) -> None:
    _report(rig)  # there is a case they must learn nothing about
    cases_before = _count(runtime, AccessAudit, AccessAudit.action.in_(("view", "list")))
    # An external user whose request says so (`user_team`, `user.team_id`): refused unseen.
    event = rig.message_event(STRANGER, "what happens next", user_team=OTHER_TEAM)
    rig.post_json(rig.envelope(event))
    rig.click(STRANGER, {"action_id": "start:my_cases", "value": "my_cases"}, user_team=OTHER_TEAM)
    assert [c for c in rig.mock.calls_to("users.info") if c.args["user"] == STRANGER] == []
    # An external user the request does not give away: users.info says they are not ours.
    rig.dm(STRANGER, "my cases")
    assert len([c for c in rig.mock.calls_to("users.info") if c.args["user"] == STRANGER]) == 1
    rig.dm(GUEST, "my cases")
    rig.dm(NO_WORK_EMAIL, "my cases")
    refused = [m["text"] for m in rig.messages_to(STRANGER) + rig.messages_to(GUEST)]
    assert refused == [_refusal_text(rig, "slack_other_organisation")] * 4
    [no_email] = rig.messages_to(NO_WORK_EMAIL)
    assert no_email["text"] == _refusal_text(rig, "slack_no_work_email")
    with runtime.sessions.begin() as session:
        emails = set(session.scalars(select(Person.email)))
    assert (
        not {"pc.jo.north@othershire.police.uk", "contractor@example.police.uk", "ravi.kaur@example.com"}
        & emails
    )
    assert _count(runtime, AccessAudit, AccessAudit.action.in_(("view", "list"))) == cases_before
    assert _count(runtime, AccessAudit, AccessAudit.action == "refused") == 5
    rig.home_opened(STRANGER)
    assert "OH-" not in json.dumps(_last_home(rig, STRANGER))


def test_slack_is_told_to_retry_when_the_work_cannot_be_stored(
    rig: SlackRig, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import store.inbox

    real = store.inbox.receive

    def database_down(**kwargs: Any) -> int | None:
        raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(store.inbox, "receive", database_down)
    caplog.set_level(logging.INFO)
    answer = rig.dm(SERGEANT, "report assault", event_id="Ev0OUTAGE")
    assert answer.status == 503  # not 200 and then nothing: Slack delivers it again
    assert rig.messages_to(SERGEANT) == [] and _count(runtime, InboxItem) == 0
    assert "answered 503" in caplog.text and "stays in the inbox" not in caplog.text

    monkeypatch.setattr(store.inbox, "receive", real)
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert rig.dm(SERGEANT, "report assault", event_id="Ev0OUTAGE", headers=retry).status == 200
    assert rig.dm(SERGEANT, "report assault", event_id="Ev0OUTAGE", headers=retry).status == 200
    assert _keys(rig.messages_to(SERGEANT)) == ["strings.report_intro", "strings.ask_victim_email"]


def test_a_failure_after_the_turn_committed_is_logged_not_attempted_again(
    rig: SlackRig, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The turn deleted its work as it committed: its replies wait in the outbox, and the work is
    neither run again nor reported as failed or given up."""

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in sending")

    monkeypatch.setattr(rig.bot.replies, "send_turn", broken)
    assert rig.dm(SERGEANT, "report assault", event_id="Ev0AFTER").status == 200
    rig.settle()
    assert "after a committed turn, RuntimeError" in caplog.text
    assert "stays in the inbox" not in caplog.text and "given up" not in caplog.text
    assert _count(runtime, InboxItem) == 0
    assert _count(runtime, QueuedReply, QueuedReply.status != "sent") == 1  # left for recovery


def test_a_dms_replies_are_queued_leased_to_the_adapters_reply_sender(
    rig: SlackRig, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack can look a send up, so its turns commit their replies already held by its sender."""
    leases = turn_leases(runtime, monkeypatch)
    rig.dm(SERGEANT, "report assault")
    rig.settle()
    assert _keys(rig.messages_to(SERGEANT)) == ["strings.report_intro", "strings.ask_victim_email"]
    assert [lease.worker for lease in leases] == [rig.bot.replies.turn_lease().worker]


def test_work_left_by_a_crash_is_taken_up_again(rig: SlackRig, runtime: Runtime, clock: FakeClock) -> None:
    broken = {"times": 1}
    original = rig.bot.port.handle

    def crash_once(inbound: Any, **options: Any) -> Any:
        if broken["times"]:
            broken["times"] -= 1
            raise RuntimeError("the process died here")
        return original(inbound, **options)

    rig.bot.port.handle = crash_once  # type: ignore[method-assign]
    rig.dm(SERGEANT, "report assault")
    assert rig.messages_to(SERGEANT) == [] and _count(runtime, InboxItem) == 1
    assert rig.loop.run(rig.bot.inbox.sweep()) == 0  # its lease has not run out
    clock.advance(minutes=3)
    assert rig.loop.run(rig.bot.inbox.sweep()) == 1
    rig.settle()
    assert _keys(rig.messages_to(SERGEANT)) == ["strings.report_intro", "strings.ask_victim_email"]
    assert _count(runtime, InboxItem) == 0


def test_work_that_keeps_failing_is_kept_without_the_words(
    rig: SlackRig, runtime: Runtime, clock: FakeClock
) -> None:
    def always(inbound: Any, **_: Any) -> Any:
        raise RuntimeError("broken")

    rig.bot.port.handle = always  # type: ignore[method-assign]
    rig.dm(SERGEANT, "Canary Street 4242")
    for _ in range(4):
        clock.advance(minutes=3)
        rig.loop.run(rig.bot.inbox.sweep())
        rig.settle()
    with runtime.sessions.begin() as session:
        item = session.scalars(select(InboxItem)).one()
        assert (item.status, item.attempts) == ("dead", 5)
        assert "Canary" not in json.dumps(item.payload) and item.payload["user"] == SERGEANT
    clock.advance(minutes=3)
    assert rig.loop.run(rig.bot.inbox.sweep()) == 0


# --- sending ----------------------------------------------------------------------------------------


def test_429_on_a_reply_waits_as_told_then_delivers(rig: SlackRig) -> None:
    rig.mock.fail("chat.postMessage", 429, retry_after=7, times=2)
    rig.dm(SERGEANT, "report assault")
    assert rig.sleeps == [7.0, 7.0]
    posts = rig.messages_to(SERGEANT)
    assert len(posts) == 3 and posts[0] == posts[2]
    assert reply_keys(posts[-1]["blocks"]) == ["strings.report_intro", "strings.ask_victim_email"]


def _proactive(rig: SlackRig) -> SlackChannel:
    channel = make_slack_channel(rig.runtime.settings, rig.runtime.pack)
    assert channel is not None
    channel.sleep = rig.bot.channel.sleep
    return channel


def test_proactive_send_honours_retry_after_and_is_not_lost(rig: SlackRig) -> None:
    rig.mock.fail("chat.postMessage", 429, retry_after=3)
    channel = _proactive(rig)
    reply = Reply(key="strings.point_due_line", text="OH-2026-0001: welfare contact is due")
    delivery = rig.loop.run(channel.send(Address("slack", TEAM, SERGEANT), [reply]))
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert delivery.message_id
    assert rig.sleeps == [3.0]
    first, second = rig.mock.calls_to("chat.postMessage")
    assert first.args == second.args and first.args["channel"] == SERGEANT


def test_proactive_send_reports_failure_instead_of_dropping(
    rig: SlackRig, caplog: pytest.LogCaptureFixture
) -> None:
    channel = _proactive(rig)
    reply = Reply(key="strings.point_due_line", text="OH-2026-0001: welfare contact is due")
    rig.mock.fail("chat.postMessage", 200, error="channel_not_found")
    delivery = rig.loop.run(channel.send(Address("slack", TEAM, "U0GONE"), [reply]))
    assert (delivery.status, delivery.error, delivery.attempts) == ("failed", "channel_not_found", 1)
    rig.mock.fail("chat.postMessage", 503, error="service_unavailable", times=5)
    channel.policy = RetryPolicy(attempts=5, base_delay=0.01)
    delivery = rig.loop.run(channel.send(Address("slack", TEAM, SERGEANT), [reply]))
    assert (delivery.status, delivery.attempts) == ("failed", 5)
    rig.mock.fail("chat.postMessage", 429, retry_after=600)
    delivery = rig.loop.run(channel.send(Address("slack", TEAM, SERGEANT), [reply]))
    assert delivery.status == "failed"  # the outbox tries later, rather than a worker waiting 10 minutes
    assert "send gave up" in caplog.text


def test_proactive_send_to_an_unreachable_slack_is_failed_not_silent(runtime: Runtime) -> None:
    settings = runtime.settings.replace(
        slack_bot_token="xoxb-test-bot-token", slack_api_url="http://127.0.0.1:9/api/"
    )
    channel = make_slack_channel(settings, runtime.pack)
    assert channel is not None
    channel.policy = RetryPolicy(attempts=2, base_delay=0.01)
    reply = Reply(key="strings.point_due_line", text="x")
    delivery = asyncio.run(channel.send(Address("slack", TEAM, SERGEANT), [reply]))
    assert (delivery.status, delivery.error) == ("failed", "connection failed")
    assert make_slack_channel(settings.replace(slack_bot_token=None)) is None


# --- configuration ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "env", "named"),
    [
        (
            ["serve"],
            {"SLACK_BOT_TOKEN": "xoxb-test-bot-token", "SLACK_TEAM_ID": TEAM},
            "SLACK_SIGNING_SECRET",
        ),
        (["serve"], {"SLACK_BOT_TOKEN": "xoxb-test-bot-token", "SLACK_SIGNING_SECRET": "s"}, "SLACK_TEAM_ID"),
        (
            ["slack-socket"],
            {"SLACK_BOT_TOKEN": "xoxb-test-bot-token", "SLACK_TEAM_ID": TEAM},
            "SLACK_APP_TOKEN",
        ),
    ],
    ids=["serve without signing secret", "serve without team", "socket without app token"],
)
def test_unsafe_slack_settings_stop_start_up(
    command: list[str],
    env: dict[str, str],
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_TEAM_ID"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main([*command, "--db", "sqlite://"]) == 2
    assert named in capsys.readouterr().err


def test_create_app_refuses_unsafe_slack_settings(sqlite_runtime: Runtime) -> None:
    from bot.app import create_app

    unsafe = sqlite_runtime.settings.replace(slack_bot_token="xoxb-test-bot-token", slack_team_id=TEAM)
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
        create_app(replace(sqlite_runtime, settings=unsafe))
    create_app(sqlite_runtime)  # Slack not configured: nothing refused (tests/bot/test_app.py: the 503)


# --- Socket Mode ------------------------------------------------------------------------------------


def test_socket_mode_serves_the_same_conversations(rig: SlackRig) -> None:
    serving = asyncio.run_coroutine_threadsafe(
        run_socket_mode(rig.bot.port, rig.runtime.settings, clock=rig.clock), rig.loop.loop
    )
    try:
        envelope = rig.envelope(rig.message_event(SERGEANT, "report assault"))
        envelope_id = rig.loop.run(rig.mock.push(envelope))
        rig.loop.run(
            rig.mock.until(
                lambda: (
                    {"envelope_id": envelope_id} in rig.mock.socket_acks
                    and len(rig.messages_to(SERGEANT)) >= 1
                )
            )
        )
        assert _keys(rig.messages_to(SERGEANT)) == ["strings.report_intro", "strings.ask_victim_email"]
        [opened] = rig.mock.calls_to("apps.connections.open")
        assert opened.token == "xapp-test-app-token"
    finally:
        serving.cancel()
        with pytest.raises((asyncio.CancelledError, Exception)):
            serving.result(10)


def test_socket_mode_leaves_unacknowledged_what_it_cannot_store(
    rig: SlackRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    import store.inbox

    real = store.inbox.receive
    refused = threading.Event()

    def down_for_one_event(**kwargs: Any) -> int | None:
        if kwargs["key"] == "Ev0SOCKDOWN":
            refused.set()
            raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))
        return real(**kwargs)

    monkeypatch.setattr(store.inbox, "receive", down_for_one_event)
    serving = asyncio.run_coroutine_threadsafe(
        run_socket_mode(rig.bot.port, rig.runtime.settings, clock=rig.clock), rig.loop.loop
    )
    try:
        lost = rig.loop.run(
            rig.mock.push(rig.envelope(rig.message_event(SERGEANT, "report assault"), event_id="Ev0SOCKDOWN"))
        )
        stored = rig.loop.run(rig.mock.push(rig.envelope(rig.message_event(OFFICER, "help"))))
        rig.loop.run(
            rig.mock.until(
                lambda: {"envelope_id": stored} in rig.mock.socket_acks and len(rig.messages_to(OFFICER)) >= 1
            )
        )
        assert refused.wait(10)
        # Not acknowledged, so Slack sends the envelope again; nothing was done with it.
        assert {"envelope_id": lost} not in rig.mock.socket_acks
        assert rig.messages_to(SERGEANT) == []
    finally:
        serving.cancel()
        with pytest.raises((asyncio.CancelledError, Exception)):
            serving.result(10)


def test_slack_api_url_points_the_client_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:1/api/")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-bot-token")
    channel = make_slack_channel(Settings.from_env())
    assert channel is not None and channel.client.base_url == "http://127.0.0.1:1/api/"


def test_messages_share_one_connection_until_the_channel_closes_it(pack: Pack) -> None:
    peers: list[object] = []

    async def post_message(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        return web.json_response({"ok": True, "channel": "D1", "ts": f"{len(peers)}.000001"})

    async def scenario() -> tuple[bool, bool]:
        app = web.Application()
        app.router.add_post("/api/chat.postMessage", post_message)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        settings = Settings(slack_bot_token="xoxb-test", slack_api_url=str(server.make_url("/api/")))
        channel = make_slack_channel(settings, pack)
        assert channel is not None
        address = Address("slack", "T1", "U1", {})
        for number in range(3):
            delivery = await channel.send(
                address,
                [Reply(key="strings.point_due_line", text="OH-2026-0001: welfare contact is due")],
                key=f"k{number}",
            )
            assert delivery.status == "sent", delivery
        open_before = channel.client.session is not None
        await channel.aclose()
        await server.close()
        return open_before, channel.client.session is None

    kept, closed = asyncio.run(scenario())
    assert len(peers) == 3 and len(set(peers)) == 1  # one connection, not one per message
    assert kept and closed


MALFORMED = {
    "a JSON array": (b"[1, 2]", "application/json"),
    "a JSON string": (b'"event_callback"', "application/json"),
    "payload=[1]": (b"payload=%5B1%5D", "application/x-www-form-urlencoded"),
    "payload not JSON": (b"payload=%7Bnot", "application/x-www-form-urlencoded"),
    "payload a number": (b"payload=7", "application/x-www-form-urlencoded"),
    "event as a string": (
        json.dumps(
            {"type": "event_callback", "team_id": TEAM, "event_id": "Ev1", "event": "message"}
        ).encode(),
        "application/json",
    ),
    "event type a list": (
        json.dumps(
            {"type": "event_callback", "team_id": TEAM, "event_id": "Ev2", "event": {"type": ["message"]}}
        ).encode(),
        "application/json",
    ),
    "team_id an object": (
        json.dumps(
            {
                "type": "event_callback",
                "team_id": {"id": TEAM},
                "event_id": "Ev3",
                "event": {"type": "message"},
            }
        ).encode(),
        "application/json",
    ),
    "actions a string": (
        b"payload="
        + urllib.parse.quote(
            json.dumps({"type": "block_actions", "team": {"id": TEAM}, "actions": "x"})
        ).encode(),
        "application/x-www-form-urlencoded",
    ),
    "view a list": (
        b"payload="
        + urllib.parse.quote(
            json.dumps({"type": "view_submission", "team": {"id": TEAM}, "view": [1]})
        ).encode(),
        "application/x-www-form-urlencoded",
    ),
    "user a number": (
        json.dumps(
            {
                "type": "event_callback",
                "team_id": TEAM,
                "event_id": "Ev4",
                "event": {"type": "message", "channel_type": "im", "user": 5, "text": ["hi"]},
            }
        ).encode(),
        "application/json",
    ),
}


@pytest.mark.parametrize("body, content_type", MALFORMED.values(), ids=list(MALFORMED))
def test_a_signed_but_malformed_payload_gets_400_never_500(
    rig: SlackRig, runtime: Runtime, body: bytes, content_type: str
) -> None:
    answer = rig.post(body, content_type)
    assert answer.status == 400, answer.body
    assert _count(runtime, InboxItem) == 0 and rig.mock.calls == []


def _coventry_leader(rig: SlackRig, runtime: Runtime) -> str:
    """A senior leader of Coventry on Slack; their user id."""
    leader = "U0SUPTGRANT"
    rig.mock.add_user(leader, "supt.lou.grant@example.police.uk", name="Supt Lou Grant")
    with runtime.sessions.begin() as session:
        person = ensure_person(session=session, email="supt.lou.grant@example.police.uk", now=runtime.clock())
        add_role(session=session, person=person, role="slt", area="coventry")
    return leader


def test_a_senior_leader_gets_the_figures_and_the_chart_as_an_uploaded_image(
    rig: SlackRig, runtime: Runtime
) -> None:
    leader = _coventry_leader(rig, runtime)
    rig.dm(leader, "report")
    rig.settle()
    assert _keys(rig.messages_to(leader)) == ["strings.report_chat_figures", "strings.anything_else"]
    # Slack's upload flow: an upload URL, the bytes sent there, then the file shared in the DM.
    [asked] = rig.mock.calls_to("files.getUploadURLExternal")
    assert asked.args["filename"] == "chart.png" and int(asked.args["length"]) > 1000
    [png] = rig.mock.uploads.values()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) == int(asked.args["length"])
    [shared] = rig.mock.calls_to("files.completeUploadExternal")
    assert shared.args["channel_id"] == f"D{leader}"
    assert shared.token == BOT_TOKEN


def test_figures_are_refused_to_anyone_but_the_slt_and_the_spoc(rig: SlackRig) -> None:
    rig.dm(OFFICER, "report")
    rig.settle()
    assert _keys(rig.messages_to(OFFICER)) == ["strings.report_chat_denied", "strings.anything_else"]
    assert rig.mock.calls_to("files.getUploadURLExternal") == []


def test_a_senior_leader_asking_for_another_areas_figures_is_refused(rig: SlackRig, runtime: Runtime) -> None:
    leader = _coventry_leader(rig, runtime)
    rig.dm(leader, "report walsall")
    rig.settle()
    assert _keys(rig.messages_to(leader)) == ["strings.report_chat_not_their_area", "strings.anything_else"]
    assert rig.mock.calls_to("files.getUploadURLExternal") == []
