"""Translating Slack payloads: typed text, commands, buttons, and who is out of scope."""

from __future__ import annotations

from typing import Any

from bot.channels.slack.inbound import (
    SlackWork,
    foreign_team,
    inbound_from_action,
    inbound_from_command,
    inbound_from_mention,
    inbound_from_message,
    plain_text,
)
from dialogs.schema import Pack

TEAM = "T0HAMPSHIRE"


def test_plain_text_undoes_slacks_markup() -> None:
    assert plain_text("<mailto:pc.amy.hart@example.police.uk|pc.amy.hart@example.police.uk>") == (
        "pc.amy.hart@example.police.uk"
    )
    assert (
        plain_text("see <https://example.police.uk/x> &amp; &lt;b&gt;")
        == "see https://example.police.uk/x & <b>"
    )
    assert plain_text("<!here> hi") == "@here hi"


def _message(**event: Any) -> dict[str, Any]:
    base = {"type": "message", "user": "U1", "text": "hi", "channel": "D1", "channel_type": "im"}
    return {"team_id": TEAM, "event_id": "Ev1", "event": {**base, **event}}


def test_only_peoples_direct_messages_are_turns() -> None:
    assert inbound_from_message(_message(), TEAM) == SlackWork(
        kind="turn", id="Ev1", team=TEAM, user="U1", surface="message", text="hi"
    )
    assert inbound_from_message(_message(bot_id="B1"), TEAM) is None
    assert inbound_from_message(_message(subtype="message_changed"), TEAM) is None
    assert inbound_from_message(_message(channel_type="channel"), TEAM) is None
    assert inbound_from_message({**_message(), "event_id": ""}, TEAM) is None


def test_a_mention_keeps_the_channel_only_for_the_pointer() -> None:
    body = {
        "event_id": "Ev2",
        "event": {"type": "app_mention", "user": "U1", "text": "<@U0BOT> report", "channel": "C1"},
    }
    work = inbound_from_mention(body, TEAM)
    assert work is not None and (work.text, work.channel) == ("report", "C1")
    empty = inbound_from_mention({**body, "event": {**body["event"], "text": "<@U0BOT>"}}, TEAM)
    assert empty is not None and empty.resume and empty.text is None


def test_command_words(pack: Pack) -> None:
    """The words are the pack's `app_commands`."""
    commands = pack.meta.app_commands

    def command(text: str) -> SlackWork:
        work = inbound_from_command({"user_id": "U1", "trigger_id": "t1", "text": text}, TEAM, commands)
        assert work is not None
        return work

    assert command("report").start == "report_assault"
    assert command("next").start == "what_happens_next"
    assert (command("contacts  sikh association").start, command("contacts sikh association").start_text) == (
        "directory_search",
        "sikh association",
    )
    assert command("Cases").start == "my_cases"
    assert (command("help").text, command("help").start) == ("help", None)
    assert command("").resume
    assert inbound_from_command({"user_id": "U1", "text": "report"}, TEAM, commands) is None  # no trigger id


def test_forged_or_broken_button_values_are_ignored() -> None:
    def press(action_id: str, value: str) -> SlackWork | None:
        body = {
            "user": {"id": "U1"},
            "trigger_id": "t",
            "actions": [{"action_id": action_id, "value": value}],
        }
        return inbound_from_action(body, TEAM)

    picked = press("choice:1", '{"s":"victim_role","v":"officer"}')
    assert picked is not None and (picked.step, picked.value) == ("victim_role", "officer")
    assert press("choice:1", "not json") is None
    assert press("choice:1", '{"s":1}') is None
    assert press("done:3", '{"c":"OH-2026-0001","p":"3"}') is None
    assert press("unknown", "x") is None


def test_foreign_team_finds_other_organisations() -> None:
    assert foreign_team({"team_id": TEAM, "event": {"team": TEAM, "user_team": TEAM}}, TEAM) is None
    assert foreign_team({"team_id": "T0OTHER"}, TEAM) == "T0OTHER"
    assert foreign_team({"team_id": TEAM, "event": {"user_team": "T0OTHER"}}, TEAM) == "T0OTHER"
    assert foreign_team({"team_id": TEAM, "event": {"user_team": "E0GRID"}}, TEAM) == "E0GRID"
    assert foreign_team({"team": {"id": TEAM}, "user": {"id": "U1", "team_id": "T0OTHER"}}, TEAM) == "T0OTHER"
    assert foreign_team({"team_id": TEAM, "authorizations": [{"team_id": "T0OTHER"}]}, TEAM) == "T0OTHER"
    assert foreign_team({"team_id": TEAM, "is_enterprise_install": True, "enterprise_id": "E1"}, TEAM) == "E1"
    assert (
        foreign_team({"team": {"id": TEAM}, "view": {"app_installed_team_id": "T0OTHER"}}, TEAM) == "T0OTHER"
    )
