"""Block Kit rendering: Slack's limits respected, people's text escaped, every payload valid."""

from __future__ import annotations

import json

from bot.channels.port import HomeCase, HomePoint
from bot.channels.slack import render
from bot.channels.slack.render import escape, render_home, render_notice, render_reason_modal, render_replies
from dialogs.schema import Pack
from dialogs.types import Choice, Fact, Reply
from tests.slack_block_kit import assert_valid_blocks, assert_valid_view
from tests.slack_mock import reply_keys


def _texts(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks)


def test_people_cannot_inject_mentions_or_links(pack: Pack) -> None:
    typed = "<!channel> <@U0BOSS> <https://evil.example|the leaflet> & more"
    reply = Reply(
        key="strings.summary_intro", text=f"Where: {typed}", facts=(Fact(label="<!here>", value=typed),)
    )
    [message] = render_replies(pack, [reply])
    assert_valid_blocks(message.blocks)
    sent = _texts(message.blocks)
    for markup in ("<!channel>", "<@U0BOSS>", "<https://", "<!here>"):
        assert markup not in sent
    assert "&lt;!channel&gt;" in sent and "&amp; more" in sent
    assert all(b["text"]["verbatim"] for b in message.blocks if b["type"] == "section")
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_choices_become_buttons_that_carry_step_and_value(pack: Pack) -> None:
    reply = Reply(
        key="strings.ask_victim_role",
        text="Role?",
        choices=(Choice(value="officer", label="Police officer"), Choice(value="staff", label="x" * 200)),
        step="victim_role",
    )
    [message] = render_replies(pack, [reply])
    assert_valid_blocks(message.blocks)
    buttons = [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [json.loads(b["value"]) for b in buttons] == [
        {"s": "victim_role", "v": "officer"},
        {"s": "victim_role", "v": "staff"},
    ]
    assert len(buttons[1]["text"]["text"]) == 75 and buttons[1]["text"]["text"].endswith("…")
    assert len({b["action_id"] for b in buttons}) == 2
    assert message.text == pack.text("strings.slack_notification")  # not the reply: lock screens show it
    assert reply_keys(message.blocks) == ["strings.ask_victim_role"]


def test_a_choice_too_long_for_a_button_is_left_to_typing(pack: Pack) -> None:
    reply = Reply(
        key="strings.pick_one", text="Pick", choices=(Choice(value="v" * 2100, label="Long"),), step="s"
    )
    [message] = render_replies(pack, [reply])
    assert [b["type"] for b in message.blocks] == ["section"]


def test_long_text_many_choices_and_many_replies_fit_slacks_limits(pack: Pack) -> None:
    long = "\n\n".join(f"Paragraph {i}: " + "word " * 120 for i in range(20))  # about 12,000 characters
    many = tuple(Choice(value=f"v{i}", label=f"Choice {i}") for i in range(30))
    replies = [Reply(key="strings.next_overview", text=long)] + [
        Reply(key="strings.pick_one", text=f"Question {i}", choices=many, step=f"s{i}") for i in range(20)
    ]
    messages = render_replies(pack, replies)
    assert len(messages) > 1
    for message in messages:
        assert 1 <= len(message.blocks) <= 50
        assert_valid_blocks(message.blocks)
        for block in message.blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
            if block["type"] == "actions":
                assert len(block["elements"]) <= 25
    keys = [k for m in messages for k in reply_keys(m.blocks)]
    assert keys == ["strings.next_overview"] + ["strings.pick_one"] * 20
    sent = "".join(b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section")
    assert sent.count("Paragraph") == 20  # nothing lost in the cutting
    values = [
        json.loads(e["value"])["v"]
        for m in messages
        for b in m.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert values == [f"v{i}" for i in range(30)] * 20


def _case(reference: str, points: int) -> HomeCase:
    return HomeCase(
        reference=reference,
        summary="Physical assault, 22 Nov 2026 22:00. You are the reporting supervisor.",
        points=tuple(
            HomePoint(id=i, title=f"Point <{i}>", line="You, due 24 Nov 2026 09:00") for i in range(points)
        ),
    )


def test_home_lists_cases_and_never_exceeds_100_blocks(pack: Pack) -> None:
    empty = render_home(pack, [])
    assert_valid_view(empty)
    assert pack.text("strings.my_cases_none").split()[0] in json.dumps(empty)

    one = render_home(pack, [_case("OH-2026-0001", 3)])
    assert_valid_view(one)
    actions = [e["action_id"] for b in one["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [a for a in actions if a.split(":")[0] in ("done", "not_applicable")] == [
        "done:0",
        "not_applicable:0",
        "done:1",
        "not_applicable:1",
        "done:2",
        "not_applicable:2",
    ]
    assert "Point &lt;0&gt;" in json.dumps(one)

    crowded = render_home(pack, [_case(f"OH-2026-{n:04d}", 19) for n in range(1, 6)])
    assert_valid_view(crowded)
    assert len(crowded["blocks"]) <= 100
    last = crowded["blocks"][-1]
    assert last["type"] == "context" and "my cases" in last["elements"][0]["text"]
    # Every point shown keeps its buttons.
    blocks = crowded["blocks"]
    for i, block in enumerate(blocks):
        if block["type"] == "section" and block["text"]["text"].startswith("*Point"):
            assert blocks[i + 1]["type"] == "actions"


def test_modal_and_notices_are_valid(pack: Pack) -> None:
    modal = render_reason_modal(pack, case="OH-2026-0001", point=7)
    assert_valid_view(modal)
    assert json.loads(modal["private_metadata"]) == {"c": "OH-2026-0001", "p": 7}
    assert len(modal["title"]["text"]) <= 24
    notice = render_notice(pack, "strings.slack_see_dm")
    assert_valid_blocks(notice.blocks)
    assert notice.text == pack.text("strings.slack_see_dm")


def _menu(pack: Pack, key: str = "strings.menu", text: str | None = None) -> Reply:
    flows = [flow for flow in (pack.flow(f) for f in pack.meta.menu) if flow]
    return Reply(
        key=key,
        text=pack.text(key) if text is None else text,
        choices=tuple(Choice(value=flow.id, label=pack.text(flow.title)) for flow in flows),
        step="__menu__",
    )


def _fresh(pack: Pack, replies: list[Reply]) -> list[tuple[str, list[dict[str, object]]]]:
    render._RENDERED.clear()
    return [(m.text, m.blocks) for m in render_replies(pack, replies)]


def test_the_packs_own_replies_are_rendered_once_then_kept_as_they_were(pack: Pack) -> None:
    replies = [Reply(key="strings.ask_details", text="Free text first"), _menu(pack), _menu(pack)]
    first = _fresh(pack, replies)
    assert len(render._RENDERED) == 2  # the menu, numbered on the second time; not the free text
    kept = [(m.text, m.blocks) for m in render_replies(pack, replies)]
    assert kept == first
    [(_, blocks)] = kept
    assert_valid_blocks(blocks)
    action_ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(set(action_ids)) == len(action_ids) == 2 * len(replies[1].choices)
    next(b for b in blocks if b["type"] == "actions")["elements"].clear()  # a caller's change stays theirs
    assert [(m.text, m.blocks) for m in render_replies(pack, replies)] == first


def test_nothing_about_a_person_is_kept_rendered(pack: Pack) -> None:
    menu = _menu(pack)
    email = Choice(value="pc.victim@example.police.uk", label=pack.text("strings.yes"))
    reference = Choice(value="HAM-2026-0001", label="HAM-2026-0001")
    personal = [
        menu.model_copy(update={"text": "Hello PC Smith, what would you like to do?"}),
        menu.model_copy(update={"facts": (Fact(label="Case", value="HAM-2026-0001"),)}),
        menu.model_copy(update={"choices": (*menu.choices, email)}),
        menu.model_copy(update={"choices": (reference,)}),
        Reply(key="strings.not_in_the_pack", text="Where: the car park"),
    ]
    for reply in personal:
        assert _fresh(pack, [reply])
        assert render._RENDERED == {}, reply
