"""Adaptive Cards: every card the bot can send is valid Adaptive Cards 1.5; submits read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.channels.inbound import Inbound
from bot.channels.teams.cards import (
    MAX_BUTTONS,
    MAX_CARD_BYTES,
    Submitted,
    escape_markdown,
    read_submit,
    render_cards,
)
from bot.router import Answered
from bot.runtime import Runtime
from dialogs.render import fill
from dialogs.schema import Pack
from dialogs.types import Choice, ChoicePick, Fact, Reply
from tests.bot.test_transcripts import TRANSCRIPTS, run_transcript
from tests.conftest import FakeClock
from tests.fake_teams import card_errors


def _assert_valid(replies: list[Reply], pack: Pack) -> list[dict[str, object]]:
    cards = render_cards(replies, pack)
    for card in cards:
        assert card_errors(card) == [], json.dumps(card, indent=1)[:2000]
    return cards


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_every_card_of_every_transcript_is_valid(
    path: Path, sqlite_runtime: Runtime, clock: FakeClock
) -> None:
    seen: list[list[Reply]] = []
    answer = sqlite_runtime.router.answer

    def recording(inbound: Inbound, **options: Any) -> Answered:
        answered = answer(inbound, **options)
        seen.append(answered.replies)
        return answered

    sqlite_runtime.router.answer = recording  # type: ignore[method-assign]
    run_transcript(yaml.safe_load(path.read_text(encoding="utf-8")), sqlite_runtime, clock)
    assert seen
    for replies in seen:
        _assert_valid(replies, sqlite_runtime.pack)


def test_every_pack_string_renders_as_a_valid_card(pack: Pack) -> None:
    replies = [Reply(key=f"strings.{key}", text=fill(pack, f"strings.{key}")) for key in pack.strings]
    for reply in replies:
        _assert_valid([reply], pack)


def test_a_reply_is_a_container_named_by_its_key_with_buttons_carrying_step_and_value(pack: Pack) -> None:
    reply = Reply(
        key="strings.ask_victim_role",
        text="What is their role?",
        choices=(
            Choice(value="officer", label="Police officer"),
            Choice(value="staff", label="Police staff"),
        ),
        step="victim_role",
    )
    [card] = _assert_valid([Reply(key="strings.report_intro", text="Intro"), reply], pack)
    assert card["version"] == "1.5"
    body = card["body"]
    assert [c["id"] for c in body] == ["strings.report_intro", "strings.ask_victim_role"]
    actions = body[1]["items"][-1]["actions"]
    assert [a["data"] for a in actions] == [
        {"step": "victim_role", "value": "officer"},
        {"step": "victim_role", "value": "staff"},
    ]
    assert read_submit(actions[0]["data"]) == Submitted("victim_role", "officer")


def test_many_choices_become_one_list_with_a_submit_button(pack: Pack) -> None:
    choices = tuple(Choice(value=f"area_{n}", label=f"Area {n}") for n in range(MAX_BUTTONS + 4))
    [card] = _assert_valid(
        [Reply(key="strings.ask_area", text="Which area?", choices=choices, step="area")], pack
    )
    listing, buttons = card["body"][0]["items"][-2:]
    assert listing["type"] == "Input.ChoiceSet" and listing["isRequired"] is True
    assert [c["value"] for c in listing["choices"]] == [c.value for c in choices]
    [button] = buttons["actions"]
    assert button["title"] == pack.text("strings.teams_choose")
    # Teams merges the inputs into the button's data when it is pressed.
    pressed = {**button["data"], listing["id"]: "area_3"}
    assert read_submit(pressed) == Submitted("area", "area_3")
    assert read_submit(pressed).pick() == ChoicePick(step="area", value="area_3")  # type: ignore[union-attr]
    assert read_submit(button["data"]) == Submitted("area", None)


@pytest.mark.parametrize(
    "data",
    [None, "text", 42, [], {}, {"value": "x"}, {"step": ""}, {"step": 7, "value": "x"}, {"step": "s" * 500}],
)
def test_anything_else_is_not_a_submit_from_our_cards(data: object) -> None:
    assert read_submit(data) is None


def test_what_people_type_is_shown_as_typed_never_as_markdown() -> None:
    assert escape_markdown("[click](https://example.com)") == r"\[click\](https://example.com)"
    assert escape_markdown("*all* _of_ `it` \\") == r"\*all\* \_of\_ \`it\` \\"
    assert escape_markdown("- not a list") == r"\- not a list"
    assert escape_markdown("1. not a list") == r"1\. not a list"
    assert escape_markdown("Broad Street, outside the station") == "Broad Street, outside the station"


def test_hand_wrapped_lines_rejoin_but_bullets_keep_their_own_lines(pack: Pack) -> None:
    text = 'First line wrapped\nby hand.\n\nAt any time you can type:\n• "help"\n• "menu"\nand more'
    [card] = render_cards([Reply(key="strings.help_general", text=text)], pack)
    lines = [item["text"] for item in card["body"][0]["items"]]
    assert lines == [
        "First line wrapped by hand.",
        "At any time you can type:",
        '• "help"',
        '• "menu" and more',
    ]


def test_facts_with_several_lines_keep_their_lines(pack: Pack) -> None:
    facts = (Fact(label="Federation", value="Phone: 0121 000 0000\nEmail: fed@example.police.uk"),)
    [card] = _assert_valid([Reply(key="strings.directory_results", text="Found:", facts=facts)], pack)
    texts = [i["text"] for c in card["body"][0]["items"] if c["type"] == "Container" for i in c["items"]]
    assert texts == ["Federation", "Phone: 0121 000 0000", "Email: fed@example.police.uk"]
    short = (Fact(label="Reference", value="OH-2026-0001"),)
    [card] = _assert_valid([Reply(key="strings.summary_intro", text="Check:", facts=short)], pack)
    assert card["body"][0]["items"][-1] == {
        "type": "FactSet",
        "facts": [{"title": "Reference", "value": "OH-2026-0001"}],
    }


def test_a_turn_too_big_for_one_card_is_split_in_order(pack: Pack) -> None:
    replies = [Reply(key=f"strings.part_{n}", text="x" * 3000) for n in range(20)] + [
        Reply(key="strings.part_0", text="again")
    ]
    cards = _assert_valid(replies, pack)
    assert len(cards) > 1
    assert all(len(json.dumps(card).encode()) <= MAX_CARD_BYTES for card in cards)
    keys = [item["id"] for card in cards for item in card["body"]]
    assert keys == [r.key for r in replies[:-1]] + ["strings.part_0#2"]


def test_only_the_teams_module_imports_botbuilder() -> None:
    root = Path(__file__).parents[4]
    importers = sorted(
        str(path.relative_to(root))
        for folder in ("bot", "dialogs", "store")
        for path in (root / folder).rglob("*.py")
        if any(
            line.startswith(
                ("import botbuilder", "from botbuilder", "import botframework", "from botframework")
            )
            for line in path.read_text(encoding="utf-8").splitlines()
        )
    )
    assert importers == ["bot/channels/teams/botbuilder.py"]


def test_a_chart_is_an_inline_image_in_a_valid_card_of_a_size_teams_takes(pack: Pack) -> None:
    from dialogs.types import Chart

    months = tuple(f"2026-{m:02d}" for m in range(1, 13))
    values, trend = tuple(float(m % 5) for m in range(12)), tuple(2.0 + m / 10 for m in range(12))
    chart = Chart(title="Cases", labels=months, values=values, value_name="Cases", trend=trend)
    facts = (Fact(label="Cases", value="24"),)
    reply = Reply(key="strings.report_chat_figures", text="Figures", facts=facts, chart=chart)
    [card] = _assert_valid([reply], pack)
    [image] = [item for item in card["body"][0]["items"] if item["type"] == "Image"]  # type: ignore[index]
    assert image["url"].startswith("data:image/png;base64,")
    assert len(json.dumps(card)) < MAX_CARD_BYTES
