"""Figures in chat for the SLT and the SPOC, and the SPOC's weekly summary (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import pytest
from sqlalchemy import select

from bot.conversation import RuntimePort
from bot.reminders.scheduler import PlanKeeper
from bot.reports.chat import SUMMARY_KIND, parse_request, queue_weekly_summary
from bot.reports.patterns import patterns
from bot.runtime import Runtime
from dialogs.notices import notice_replies
from dialogs.schema import Pack
from dialogs.types import Reply
from store.models import Nudge
from store.people import add_role, ensure_person
from tests.bot.reports.history import NOW, TZ, scope, seed
from tests.channel import Conversation, keys

LEADER = "supt.lou.grant@example.police.uk"
SPOC = "insp.kim.shah@example.police.uk"
OFFICER = "pc.ben.ward@example.police.uk"


@pytest.fixture
def history(runtime: Runtime) -> Runtime:
    """The seeded history, Coventry's senior leader and the force's SPOC."""
    with runtime.sessions.begin() as session:
        seed(runtime.pack, session, cases=20)
        add_role(session=session, person=ensure_person(session=session, email=LEADER, now=NOW), role="slt",
                 area="coventry")  # fmt: skip
        add_role(session=session, person=ensure_person(session=session, email=SPOC, now=NOW), role="spoc")
    return runtime


def _facts(reply: Reply) -> dict[str, str]:
    return {fact.label: fact.value for fact in reply.facts}


def _cases(runtime: Runtime, **window: object) -> int:
    with runtime.sessions.begin() as session:
        report = patterns(runtime.pack, session=session, scope=scope(**window), now=NOW)  # type: ignore[arg-type]
    return int(dict(report.headline)[runtime.pack.text("strings.report_head_cases")])  # type: ignore[call-overload]


def test_a_senior_leader_asks_report_and_gets_their_areas_figures_with_the_chart(history: Runtime) -> None:
    pack = history.pack
    replies = Conversation(RuntimePort(history), LEADER).say("report")
    assert keys(replies) == ["strings.report_chat_figures", "strings.anything_else"]
    reply = replies[0]
    first = date(2025, 11, 1)
    assert "Coventry" in reply.text and "1 Nov 2025" in reply.text
    expected = _cases(history, first=first, last=date(2026, 11, 23), area="coventry")
    assert _facts(reply)[pack.text("strings.report_head_cases")] == str(expected)
    assert pack.text("strings.report_head_victims_code") in _facts(reply)
    assert reply.chart is not None
    assert reply.chart.labels[0] == "2025-11" and reply.chart.labels[-1] == "2026-11"
    assert sum(reply.chart.values) == expected and len(reply.chart.trend) == len(reply.chart.labels)


def test_the_spoc_names_an_area_and_a_period(history: Runtime) -> None:
    pack = history.pack
    reply = Conversation(RuntimePort(history), SPOC).say("report walsall last month")[0]
    assert reply.key == "strings.report_chat_figures"
    assert "Walsall" in reply.text and "1 Oct 2026" in reply.text and "31 Oct 2026" in reply.text
    expected = _cases(history, first=date(2026, 10, 1), last=date(2026, 10, 31), area="walsall")
    assert _facts(reply)[pack.text("strings.report_head_cases")] == str(expected)
    force = Conversation(RuntimePort(history), SPOC).say("figures")[0]
    assert "across the force" in force.text


def test_anyone_else_is_told_who_figures_are_for(history: Runtime) -> None:
    replies = Conversation(RuntimePort(history), OFFICER).say("report")
    assert keys(replies) == ["strings.report_chat_denied", "strings.anything_else"]
    assert replies[0].chart is None and not replies[0].facts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("report", (None, date(2025, 11, 1), date(2026, 11, 23))),
        ("report coventry", ("coventry", date(2025, 11, 1), date(2026, 11, 23))),
        ("report Birmingham East this year", ("birmingham_east", date(2026, 1, 1), date(2026, 11, 23))),
        ("figures for last week", (None, date(2026, 11, 16), date(2026, 11, 22))),
        ("report dudley this month", ("dudley", date(2026, 11, 1), date(2026, 11, 23))),
        ("report last year", (None, date(2025, 1, 1), date(2025, 12, 31))),
    ],
)
def test_requests_are_read_by_the_packs_words(pack: Pack, text: str, expected: tuple[object, ...]) -> None:
    assert parse_request(pack, text, now=NOW) == expected


def test_the_spoc_gets_the_weekly_summary_once_a_week(history: Runtime) -> None:
    pack = history.pack
    with history.sessions.begin() as session:
        assert queue_weekly_summary(pack, session=session, now=NOW) == 1
        assert queue_weekly_summary(pack, session=session, now=NOW) == 0
        [row] = session.scalars(select(Nudge).where(Nudge.kind == SUMMARY_KIND)).all()
        assert row.recipient.email == SPOC
        # Due Monday 08:00 (the pack's weekday and time), about the Monday-to-Sunday before.
        assert row.due_slot == datetime(2026, 11, 23, 8, 0, tzinfo=TZ)
        payload = row.payload
    assert "16 Nov 2026" in payload["covering"] and "22 Nov 2026" in payload["covering"]
    week = _cases(history, first=date(2026, 11, 16), last=date(2026, 11, 22))
    [reply] = notice_replies(pack, SUMMARY_KIND, payload, now=NOW)
    assert reply.key == "strings.report_chat_weekly"
    assert _facts(reply)[pack.text("strings.report_head_cases")] == str(week)
    assert reply.chart is not None and reply.chart.labels[-1] == "2026-11"


def test_the_tick_queues_the_summary(history: Runtime) -> None:
    asyncio.run(PlanKeeper(history, {}).tick())
    with history.sessions.begin() as session:
        assert len(session.scalars(select(Nudge).where(Nudge.kind == SUMMARY_KIND)).all()) == 1


def test_a_senior_leader_is_refused_another_areas_figures(history: Runtime) -> None:
    replies = Conversation(RuntimePort(history), LEADER).say("report walsall last month")
    assert keys(replies) == ["strings.report_chat_not_their_area", "strings.anything_else"]
    assert "Walsall" in replies[0].text and replies[0].chart is None and not replies[0].facts


def test_a_leader_of_several_areas_gets_only_theirs_when_naming_none(history: Runtime) -> None:
    pack = history.pack
    with history.sessions.begin() as session:
        add_role(session=session, person=ensure_person(session=session, email=LEADER, now=NOW), role="slt",
                 area="walsall")  # fmt: skip
    reply = Conversation(RuntimePort(history), LEADER).say("report")[0]
    assert reply.key == "strings.report_chat_figures" and "across the force" not in reply.text
    window = {"first": date(2025, 11, 1), "last": date(2026, 11, 23)}
    expected = _cases(history, area="coventry", **window) + _cases(history, area="walsall", **window)
    assert expected < _cases(history, **window)  # the history has cases elsewhere too
    assert _facts(reply)[pack.text("strings.report_head_cases")] == str(expected)
    assert reply.chart is not None and sum(reply.chart.values) == expected
    named = Conversation(RuntimePort(history), LEADER).say("report walsall")[0]
    assert named.key == "strings.report_chat_figures"
    assert _facts(named)[pack.text("strings.report_head_cases")] == str(
        _cases(history, area="walsall", **window)
    )
