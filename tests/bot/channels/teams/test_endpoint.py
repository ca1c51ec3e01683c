"""Teams at the wire: Activity JSON posted to the running /api/messages, a mock Bot Connector.

These run the app in local mode (HAMPSHIRE_ALLOW_UNAUTHENTICATED=1, as for the Agents Playground)
and with Teams off; `test_teams_auth.py` covers authentication. Every test drives a real aiohttp
server on an ephemeral port and checks what reached the connector and the database (SQLite and
PostgreSQL).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import Engine, func, select

from bot.app import create_app
from bot.channels.port import NotStored
from bot.channels.teams.endpoint import add_teams_routes
from bot.channels.teams.security import TeamsConfigError, teams_mode
from bot.conversation import RuntimePort
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from dialogs.types import MENU_STEP
from store.models import AccessAudit, Case, ChannelIdentity, Person, ProcessedEvent
from tests.bot.helpers import report
from tests.conftest import FakeClock, turn_leases
from tests.fake_teams import (
    Bot,
    TeamsUser,
    activity,
    bot_added,
    installed,
    message,
    new_guid,
    running,
    submit,
)

pytestmark = pytest.mark.usefixtures("sdk")

SUPERVISOR = TeamsUser("Sgt Test Supervisor", "sgt.test.supervisor@example.police.uk")


@pytest.fixture
def tenant() -> str:
    return new_guid()


def local_runtime(engine: Engine, clock: FakeClock, tenant: str | None) -> Runtime:
    settings = Settings(allow_unauthenticated=True, microsoft_app_tenant_id=tenant)
    return build_runtime(settings, clock=clock, engine=engine, migrate=False)


def drive(runtime: Runtime, scenario: Callable[[Bot], Awaitable[None]]) -> None:
    """Serve the real app (`create_app`) and run `scenario` against it."""

    async def main() -> None:
        async with running(lambda connector: create_app(runtime)) as bot:
            await scenario(bot)
            assert bot.connector.invalid_cards == []

    asyncio.run(main())


def count(runtime: Runtime, model: Any) -> int:
    with runtime.sessions.begin() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_bot_added_to_a_personal_chat_greets_and_stores_the_reference(
    engine: Engine, clock: FakeClock, tenant: str
) -> None:
    runtime = local_runtime(engine, clock, tenant)

    async def scenario(bot: Bot) -> None:
        who = bot.who(SUPERVISOR, tenant)
        response = await bot.post(bot_added(**who))
        assert response.status == 200
        [greeting] = bot.connector.posted
        assert greeting.keys == ["strings.greeting"]
        assert {c["value"] for c in greeting.choices()} == set(runtime.pack.meta.menu)
        assert greeting.conversation_id == f"a:{SUPERVISOR.aad}"

    drive(runtime, scenario)
    with runtime.sessions.begin() as session:
        identity = session.scalars(select(ChannelIdentity)).one()
        assert (identity.channel, identity.tenant, identity.user_id) == ("msteams", tenant, SUPERVISOR.aad)
        assert identity.person.email == SUPERVISOR.email
        assert identity.address is not None
        assert identity.address["serviceUrl"].startswith("http://127.0.0.1:")
        assert identity.address["channelId"] == "msteams"
        assert identity.address["conversation"] == {
            "id": f"a:{SUPERVISOR.aad}",
            "conversationType": "personal",
            "tenantId": tenant,
        }
        assert identity.address["user"] == {
            "id": SUPERVISOR.id,
            "name": SUPERVISOR.name,
            "aadObjectId": SUPERVISOR.aad,
        }
        assert set(identity.address["bot"]) == {"id", "name"}


def test_installation_stores_the_reference_once_without_messaging(
    engine: Engine, clock: FakeClock, tenant: str
) -> None:
    runtime = local_runtime(engine, clock, tenant)

    async def scenario(bot: Bot) -> None:
        who = bot.who(SUPERVISOR, tenant)
        install = installed(**who)
        assert (await bot.post(install)).status == 200
        assert (await bot.post(install)).status == 200  # resent
        assert bot.connector.posted == []
        assert bot.connector.member_lookups == 1

    drive(runtime, scenario)
    with runtime.sessions.begin() as session:
        identity = session.scalars(select(ChannelIdentity)).one()
        assert identity.address is not None and identity.address["conversation"]["tenantId"] == tenant
    assert count(runtime, ProcessedEvent) == 1


def test_a_supervisor_reports_an_assault_with_buttons_and_typed_answers(
    engine: Engine, clock: FakeClock, tenant: str
) -> None:
    runtime = local_runtime(engine, clock, tenant)

    async def scenario(bot: Bot) -> None:
        who = bot.who(SUPERVISOR, tenant)
        await bot.post(bot_added(**who))

        async def press(value: str) -> list[str]:
            data = next(d for d in bot.connector.posted[-1].choices() if d["value"] == value)
            return await turn(submit(data, **who))

        async def say(text: str) -> list[str]:
            return await turn(message(text, **who))

        async def turn(body: dict[str, Any]) -> list[str]:
            before = len(bot.connector.posted)
            assert (await bot.post(body)).status == 200
            [reply] = bot.connector.posted[before:]
            return reply.keys

        assert await press("report_assault") == ["strings.report_intro", "strings.ask_victim_email"]
        assert await say("pc.test.victim@example.police.uk") == ["strings.ask_confirm_new_person"]
        assert await press("yes") == ["strings.ask_victim_role"]
        assert await say("officer") == ["strings.ask_occurred_at"]  # a typed answer to a button question
        assert await say("yesterday 10pm") == ["strings.ask_location"]
        assert await say("[a link](https://example.com) *Street*") == ["strings.ask_area"]
        area = bot.connector.posted[-1].cards[0]["body"][0]["items"]
        assert any(item["type"] == "Input.ChoiceSet" for item in area)  # nine areas: a list, not buttons
        list_button = bot.connector.posted[-1].choices()[0]
        assert await turn(submit({**list_button, list_button["input"]: "coventry"}, **who)) == [
            "strings.ask_kind"
        ]
        assert await press("physical_assault") == ["strings.ask_hate_motivated"]
        assert await press("no") == ["strings.ask_injury_level"]
        assert await press("minor") == ["strings.ask_injury_detail"]
        assert await say("A bruised arm") == ["strings.ask_medical_care"]
        assert await press("none") == ["strings.ask_suspect_arrested"]
        assert await press("no") == ["strings.ask_crime_reference"]
        assert await say("skip") == ["strings.ask_colleagues_present"]
        assert await say("none") == ["strings.welfare_intro", "strings.ask_welfare_how"]
        assert await say("Shaken") == ["strings.ask_welfare_support"]
        assert await say("A call tomorrow") == ["strings.ask_welfare_handover"]
        assert await say("Nothing") == ["strings.ask_consent_contact"]
        assert await press("yes") == ["strings.ask_consent_association"]
        assert await press("no") == ["strings.summary_intro"]
        summary = bot.connector.posted[-1].cards[0]["body"][0]["items"]
        facts = next(item for item in summary if item["type"] == "FactSet")["facts"]
        assert {"title": "Where", "value": r"\[a link\](https://example.com) \*Street\*"} in facts
        assert await press("confirm") == [
            "strings.case_opened",
            "strings.report_next_steps",
            "strings.anything_else",
        ]

    drive(runtime, scenario)
    with runtime.sessions.begin() as session:
        case = session.scalars(select(Case)).one()
        assert case.reporter.email == SUPERVISOR.email


def test_a_resent_activity_is_processed_once(engine: Engine, clock: FakeClock, tenant: str) -> None:
    runtime = local_runtime(engine, clock, tenant)

    async def scenario(bot: Bot) -> None:
        who = bot.who(SUPERVISOR, tenant)
        first = message("report assault", **who)
        assert (await bot.post(first)).status == 200
        assert (await bot.post(first)).status == 200  # Teams re-POSTs after 15 s with the same id
        assert [p.keys for p in bot.connector.posted] == [
            ["strings.report_intro", "strings.ask_victim_email"]
        ]
        await bot.post(message("pc.test.victim@example.police.uk", **who))
        assert bot.connector.posted[-1].keys == ["strings.ask_confirm_new_person"]

    drive(runtime, scenario)


def test_a_turns_replies_are_not_leased_in_the_turn_as_teams_cannot_look_a_send_up(
    engine: Engine, clock: FakeClock, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queued pending, a reply a crash left unsent is sent later, not recorded unconfirmed."""
    runtime = local_runtime(engine, clock, tenant)
    leases = turn_leases(runtime, monkeypatch)

    async def scenario(bot: Bot) -> None:
        assert (await bot.post(message("report assault", **bot.who(SUPERVISOR, tenant)))).status == 200
        assert [p.keys for p in bot.connector.posted] == [
            ["strings.report_intro", "strings.ask_victim_email"]
        ]

    drive(runtime, scenario)
    assert leases == [None]


def test_an_activity_that_cannot_be_stored_gets_an_error_status_and_its_resend_is_answered(
    engine: Engine, clock: FakeClock, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = local_runtime(engine, clock, tenant)
    answer = runtime.router.answer

    def database_down(inbound: Any, **_: Any) -> Any:
        raise NotStored(inbound.event_id)

    async def scenario(bot: Bot) -> None:
        who = bot.who(SUPERVISOR, tenant)
        first = message("report assault", **who)
        monkeypatch.setattr(runtime.router, "answer", database_down)
        assert (await bot.post(first)).status == 503  # not 200 and nothing: Teams sends it again
        assert bot.connector.posted == []
        monkeypatch.setattr(runtime.router, "answer", answer)
        assert (await bot.post(first)).status == 200
        assert [p.keys for p in bot.connector.posted] == [
            ["strings.report_intro", "strings.ask_victim_email"]
        ]

    drive(runtime, scenario)


def test_manifest_commands_start_their_flows(engine: Engine, clock: FakeClock, tenant: str) -> None:
    runtime = local_runtime(engine, clock, tenant)

    async def scenario(bot: Bot) -> None:
        who = bot.who(SUPERVISOR, tenant)
        expected = [
            ("contacts", ["strings.ask_directory_query"]),
            ("contacts federation", ["strings.directory_results", "strings.directory_after_last"]),
            ("next", ["strings.next_overview", "strings.next_topics"]),
            ("cases", ["strings.my_cases_none", "strings.anything_else"]),
            ("report", ["strings.report_intro", "strings.ask_victim_email"]),
            ("help", ["strings.help_victim_email", "strings.ask_victim_email"]),
        ]
        for text, keys in expected:
            await bot.post(message(text, **who))
            assert bot.connector.posted[-1].keys == keys, text

    drive(runtime, scenario)


def test_a_button_from_a_list_pressed_without_choosing_asks_to_pick(
    engine: Engine, clock: FakeClock, tenant: str
) -> None:
    runtime = local_runtime(engine, clock, tenant)

    async def scenario(bot: Bot) -> None:
        who = bot.who(SUPERVISOR, tenant)
        await bot.post(submit({"step": "area", "input": "choice_0"}, **who))
        assert bot.connector.posted[-1].keys == ["strings.pick_one"]

    drive(runtime, scenario)


def test_action_execute_gets_a_proper_invoke_response(engine: Engine, clock: FakeClock, tenant: str) -> None:
    runtime = local_runtime(engine, clock, tenant)

    async def scenario(bot: Bot) -> None:
        who = bot.who(SUPERVISOR, tenant)
        value = {
            "action": {
                "type": "Action.Execute",
                "verb": "pick",
                "data": {"step": MENU_STEP, "value": "my_cases"},
            },
            "trigger": "manual",
        }
        async with bot.http.post(
            bot.url + "/api/messages", json=activity("invoke", name="adaptiveCard/action", value=value, **who)
        ) as response:
            assert response.status == 200
            assert await response.json() == {
                "statusCode": 200,
                "type": "application/vnd.microsoft.activity.message",
                "value": "",
            }
        assert bot.connector.posted[-1].keys == ["strings.my_cases_none", "strings.anything_else"]
        bad = {"action": {"type": "Action.Execute", "verb": "x", "data": {"nothing": "here"}}}
        async with bot.http.post(
            bot.url + "/api/messages", json=activity("invoke", name="adaptiveCard/action", value=bad, **who)
        ) as response:
            assert response.status == 200
            assert (await response.json())["statusCode"] == 400

    drive(runtime, scenario)


def test_in_a_group_chat_or_team_the_bot_only_points_to_the_personal_chat(
    engine: Engine, clock: FakeClock, tenant: str
) -> None:
    runtime = local_runtime(engine, clock, tenant)

    async def scenario(bot: Bot) -> None:
        who = bot.who(SUPERVISOR, tenant)
        for kind in ("groupChat", "channel"):
            group = dict(who, conversation_type=kind, conversation_id=f"19:{new_guid()}@thread.v2")
            said = message("report assault on PC Test at Broad Street", **group)
            await bot.post(said)
            await bot.post(said)  # resent: pointed once
            await bot.post(submit({"step": MENU_STEP, "value": "my_cases"}, **group))
            await bot.post(bot_added(**group))
        assert [p.keys for p in bot.connector.posted] == [["strings.teams_one_to_one_only"]] * 6
        assert bot.connector.member_lookups == 0

    drive(runtime, scenario)
    assert count(runtime, Person) == 0
    assert count(runtime, ChannelIdentity) == 0


def test_someone_without_a_work_address_is_refused_politely(
    engine: Engine, clock: FakeClock, tenant: str
) -> None:
    runtime = local_runtime(engine, clock, tenant)
    outsider = TeamsUser("Guest User", "guest.user@example.com")

    async def scenario(bot: Bot) -> None:
        who = bot.who(outsider, tenant)
        await bot.post(message("report assault", **who))
        await bot.post(bot_added(**who))
        await bot.post(installed(**who))
        assert [p.keys for p in bot.connector.posted] == [["strings.teams_work_account_needed"]] * 2
        assert "*.police.uk" in bot.connector.posted[0].cards[0]["body"][0]["items"][0]["text"]

    drive(runtime, scenario)
    assert count(runtime, Person) == 0


def test_the_member_lookup_is_cached(engine: Engine, clock: FakeClock, tenant: str) -> None:
    runtime = local_runtime(engine, clock, tenant)

    async def scenario(bot: Bot) -> None:
        who = bot.who(SUPERVISOR, tenant)
        for text in ("menu", "help", "menu"):
            await bot.post(message(text, **who))
        assert bot.connector.member_lookups == 1
        clock.advance(hours=2)
        await bot.post(message("menu", **who))
        assert bot.connector.member_lookups == 2

    drive(runtime, scenario)


def test_a_member_teams_does_not_know_gets_an_apology(engine: Engine, clock: FakeClock, tenant: str) -> None:
    runtime = local_runtime(engine, clock, tenant)

    async def scenario(bot: Bot) -> None:
        who = dict(person=SUPERVISOR, tenant=tenant, service_url=bot.connector.url)  # not in the roster
        assert (await bot.post(message("menu", **who))).status == 200
        assert bot.connector.posted[-1].keys == ["strings.error"]

    drive(runtime, scenario)
    assert count(runtime, Person) == 0


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"channelId": "emulator"}, 403),
        ({"channelId": "webchat"}, 403),
        ({"serviceUrl": "https://smba.trafficmanager.net/uk/"}, 403),  # local mode: loopback only
        ({"serviceUrl": "http://203.0.113.7/"}, 403),
        ({"channelData": {"tenant": {"id": "another"}}}, 403),
        ({"conversation": {"id": "a:1", "conversationType": "personal", "tenantId": "another"}}, 403),
        ({"conversation": None}, 400),
        ({"from": None}, 400),
        ({"type": None}, 400),
        ({"conversation": "not an object"}, 400),
    ],
)
def test_requests_outside_what_is_served_are_refused_before_any_state(
    engine: Engine, clock: FakeClock, tenant: str, change: dict[str, Any], status: int
) -> None:
    runtime = local_runtime(engine, clock, tenant)

    async def scenario(bot: Bot) -> None:
        who = bot.who(SUPERVISOR, tenant)
        body = {k: v for k, v in {**message("report assault", **who), **change}.items() if v is not None}
        assert (await bot.post(body)).status == status
        assert bot.connector.posted == [] and bot.connector.member_lookups == 0

    drive(runtime, scenario)
    assert count(runtime, ProcessedEvent) == 0
    assert count(runtime, Person) == 0


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'"text"', "application/json", 400),
        (b'{"type": "message"}', "text/plain", 415),
        (b"", "application/json", 400),
    ],
)
def test_malformed_requests_get_4xx_never_500(
    sqlite_engine: Engine, clock: FakeClock, tenant: str, body: bytes, content_type: str, status: int
) -> None:
    runtime = local_runtime(sqlite_engine, clock, tenant)

    async def scenario(bot: Bot) -> None:
        async with bot.http.post(
            bot.url + "/api/messages", data=body, headers={"Content-Type": content_type}
        ) as response:
            assert response.status == status

    drive(runtime, scenario)


#: What a user might have typed; it must never reach a log, whichever field it is misplaced in.
SAID = "I was punched by PC Test Marker"


@pytest.mark.parametrize(
    "malformed",
    [
        {"from": SAID},
        {"timestamp": SAID},
        {"recipient": SAID},
        {"attachments": SAID},
        {"entities": [SAID]},
        {"conversation": {"id": "a:1", "isGroup": SAID}},
    ],
    ids=["from", "timestamp", "recipient", "attachments", "entities", "conversation"],
)
def test_a_malformed_activity_never_logs_what_it_carries(
    sqlite_engine: Engine,
    clock: FakeClock,
    tenant: str,
    malformed: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Refused before authentication: anyone can post it, and it may hold what a victim typed.
    caplog.set_level(logging.DEBUG)
    runtime = local_runtime(sqlite_engine, clock, tenant)

    async def scenario(bot: Bot) -> None:
        response = await bot.post({**message(SAID, **bot.who(SUPERVISOR, tenant)), **malformed})
        assert response.status == 400
        assert bot.connector.posted == []

    drive(runtime, scenario)
    assert caplog.records  # the refusal itself is logged
    assert not [r for r in caplog.records if SAID in r.getMessage() or SAID in str(r.exc_info)]
    assert SAID not in caplog.text


def test_without_a_configured_tenant_local_mode_serves_the_tenant_the_client_uses(
    sqlite_engine: Engine, clock: FakeClock, tenant: str
) -> None:
    runtime = local_runtime(sqlite_engine, clock, None)

    async def scenario(bot: Bot) -> None:
        who = bot.who(SUPERVISOR, tenant)
        assert (await bot.post(message("menu", **who))).status == 200
        assert bot.connector.posted[-1].keys == ["strings.menu"]

    drive(runtime, scenario)


def test_teams_off_refuses_without_processing(
    engine: Engine, clock: FakeClock, tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    # With Teams off, `create_app` says so itself and never imports the Teams SDK's module.
    caplog.set_level(logging.INFO, logger="bot.app")
    runtime = build_runtime(Settings(), clock=clock, engine=engine, migrate=False)
    assert teams_mode(runtime.settings) == "off"

    async def scenario(bot: Bot) -> None:
        who = bot.who(SUPERVISOR, tenant)
        assert (await bot.post(message("report assault", **who))).status == 503
        assert bot.connector.posted == [] and bot.connector.member_lookups == 0

    drive(runtime, scenario)
    assert count(runtime, ProcessedEvent) == 0
    assert "Microsoft Teams is off" in caplog.text


def test_local_mode_warns_at_start_up(
    sqlite_engine: Engine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.teams.endpoint")
    create_app(local_runtime(sqlite_engine, clock, None))
    assert [r.levelname for r in caplog.records if "WITHOUT AUTHENTICATION" in r.message] == ["WARNING"]


@pytest.mark.parametrize(
    "settings",
    [
        Settings(microsoft_app_id=new_guid()),
        Settings(microsoft_app_id=new_guid(), microsoft_app_password="test-only-password"),
        Settings(microsoft_app_id=new_guid(), microsoft_app_tenant_id=new_guid()),
    ],
)
def test_an_app_id_without_its_password_or_tenant_stops_start_up(
    sqlite_engine: Engine, clock: FakeClock, settings: Settings
) -> None:
    runtime = build_runtime(settings, clock=clock, engine=sqlite_engine, migrate=False)
    with pytest.raises(TeamsConfigError):
        create_app(runtime)


def test_logs_carry_ids_and_types_never_what_people_typed(
    sqlite_engine: Engine, clock: FakeClock, tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runtime = local_runtime(sqlite_engine, clock, tenant)
    secret = "Bruised ribs after the arrest at Broad Street"

    async def scenario(bot: Bot) -> None:
        who = bot.who(SUPERVISOR, tenant)
        await bot.post(message(secret, **who))
        await bot.post({**message(secret, **who), "channelId": "emulator", "id": "x\nFORGED LOG LINE"})
        await bot.post(message(secret, **{**who, "conversation_type": "groupChat"}))

    drive(runtime, scenario)
    assert secret not in caplog.text
    assert "Bruised" not in caplog.text
    assert "\nFORGED" not in caplog.text and "x?FORGED?LOG?LINE" in caplog.text


def test_the_teams_routes_are_never_added_with_teams_off(sqlite_engine: Engine, clock: FakeClock) -> None:
    # `create_app` answers for Teams off itself (test_teams_off_refuses_without_processing).
    runtime = build_runtime(Settings(), clock=clock, engine=sqlite_engine, migrate=False)
    app = web.Application()
    with pytest.raises(TeamsConfigError, match="Teams is off"):
        add_teams_routes(app, RuntimePort(runtime), runtime.settings, clock=clock)
    assert list(app.router.routes()) == []


def test_a_stranger_probing_case_references_cannot_tell_which_exist_and_is_audited(
    engine: Engine, clock: FakeClock, tenant: str
) -> None:
    runtime = local_runtime(engine, clock, tenant)
    reference = report(runtime)
    stranger = TeamsUser("PC Nosey Parker", "pc.nosey.parker@example.police.uk")
    answers: dict[str, list[str]] = {}

    async def scenario(bot: Bot) -> None:
        who = bot.who(stranger, tenant)
        for probe in (reference, "OH-1999-0001"):
            before = len(bot.connector.posted)
            assert (await bot.post(message(f"update case {probe}", **who))).status == 200
            answers[probe] = [key for reply in bot.connector.posted[before:] for key in reply.keys]

    drive(runtime, scenario)
    assert answers[reference] == answers["OH-1999-0001"]
    assert "strings.case_not_found_by_reference" in answers[reference]
    with runtime.sessions.begin() as session:
        rows = session.scalars(
            select(AccessAudit)
            .join(Person, AccessAudit.person_id == Person.id)
            .where(Person.email == stranger.email)
            .order_by(AccessAudit.id)
        ).all()
        case_id = session.scalar(select(Case.id).where(Case.reference == reference))
        assert [(a.surface, a.action, a.case_id, a.detail) for a in rows] == [
            ("msteams", "denied", case_id, None),
            ("msteams", "not_found", None, "reference OH-1999-0001"),
        ]


def test_a_senior_leader_gets_the_figures_with_the_chart_in_the_card(
    engine: Engine, clock: FakeClock, tenant: str
) -> None:
    from store.people import add_role, ensure_person

    runtime = local_runtime(engine, clock, tenant)
    leader = TeamsUser("Supt Lou Grant", "supt.lou.grant@example.police.uk")
    with runtime.sessions.begin() as session:
        person = ensure_person(session=session, email=leader.email, now=clock())
        add_role(session=session, person=person, role="spoc")

    async def scenario(bot: Bot) -> None:
        # In Teams "report" is the command menu's word for reporting an assault; figures are asked for.
        await bot.post(message("figures coventry last month", **bot.who(leader, tenant)))
        posted = bot.connector.posted[-1]
        assert posted.keys == ["strings.report_chat_figures", "strings.anything_else"]
        images = [
            i for card in posted.cards for c in card["body"] for i in c["items"] if i["type"] == "Image"
        ]
        [image] = images
        assert image["url"].startswith("data:image/png;base64,")
        assert image["altText"] == runtime.pack.text("strings.report_chat_chart")

    drive(runtime, scenario)
