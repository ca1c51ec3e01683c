"""Neutral replies out as Block Kit: the rendering half of the Slack adapter.

Every payload is built from slack_sdk's models, whose `to_dict()` checks Slack's limits, and is cut
to fit them first: 50 blocks a message, 100 in a view, 3000 characters a section, 75 a button.
Anything a person or the pack wrote is escaped for mrkdwn (`&`, `<`, `>`) and shown verbatim, so
no text can turn into a mention, a channel-wide notification or a disguised link. The `text` of a
message is a fixed sentence: it is what notifications and lock screens show.
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.blocks.basic_components import DispatchActionConfig
from slack_sdk.models.views import View

from bot.channels.port import HomeCase
from bot.channels.slack.inbound import (
    CHOICE,
    DONE,
    NOT_APPLICABLE,
    NOT_APPLICABLE_VIEW,
    REASON,
    SEARCH,
    SEARCH_GO,
    START,
    choice_value,
    point_value,
)
from dialogs.render import fill
from dialogs.schema import Pack
from dialogs.types import Reply

__all__ = [
    "Message",
    "escape",
    "render_home",
    "render_notice",
    "render_reason_modal",
    "render_refusal_home",
    "render_replies",
]

log = logging.getLogger(__name__)

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTIONS_ELEMENTS = 25
VIEW_TITLE = 24
BLOCK_ID = 255


@dataclass(frozen=True)
class Message:
    """A message as `chat.postMessage` takes it: notification text and blocks (plain JSON)."""

    text: str
    blocks: list[dict[str, Any]]


def escape(text: str) -> str:
    """Text safe inside mrkdwn: Slack's control characters escaped as Slack requires."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chunks(text: str, limit: int) -> Iterator[str]:
    """`text` in pieces of at most `limit` characters, cut at paragraph or line ends where possible."""
    while len(text) > limit:
        cut = max(text.rfind("\n\n", 0, limit), text.rfind("\n", 0, limit))
        cut = cut if cut > 0 else limit
        yield text[:cut]
        text = text[cut:].lstrip("\n")
    if text:
        yield text


def _section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=mrkdwn, verbatim=True))


def _sections(mrkdwn: str) -> list[Block]:
    return [_section(piece) for piece in _chunks(mrkdwn, SECTION_TEXT)]


def _plain(text: str, limit: int) -> PlainTextObject:
    return PlainTextObject(text=_clip(text, limit), emoji=False)


def _button(
    text: str, action_id: str, value: str, *, style: str | None = None, confirm: ConfirmObject | None = None
) -> ButtonElement:
    return ButtonElement(
        text=_plain(text, BUTTON_TEXT), action_id=action_id, value=value, style=style, confirm=confirm
    )


def _actions(buttons: Sequence[ButtonElement]) -> list[Block]:
    return [
        ActionsBlock(elements=list(buttons[i : i + ACTIONS_ELEMENTS]))
        for i in range(0, len(buttons), ACTIONS_ELEMENTS)
    ]


def _reply_blocks(reply: Reply, counter: Iterator[int]) -> list[Block]:
    """A reply's blocks: its text, its facts, its choices as buttons.

    The first block's id carries the reply's string id (`strings.…#n`), so that what was said can
    be told apart on the wire (tests assert on it) without reading the wording.
    """
    blocks: list[Block] = _sections(escape(reply.text)) if reply.text.strip() else []
    facts = "\n\n".join(f"*{escape(f.label)}*\n{escape(f.value)}" for f in reply.facts)
    blocks += _sections(facts) if facts else []
    buttons = []
    for choice in reply.choices if reply.step else ():
        value = choice_value(reply.step or "", choice.value)
        if len(value) > BUTTON_VALUE:
            log.warning("a choice of step %s is too long for a button; it can still be typed", reply.step)
            continue
        buttons.append(_button(choice.label, f"{CHOICE}:{next(counter)}", value))
    blocks += _actions(buttons)
    if blocks:
        blocks[0].block_id = _clip(f"{reply.key}#{next(counter)}", BLOCK_ID)
    return blocks


def _dicts(blocks: Iterable[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


#: A choice value the pack could have written (an `Id`): never an email, a case reference or a number.
_PACK_ID = re.compile(r"[a-z][a-z0-9_]*")
#: Replies whose blocks are kept, and the packs whose sentences are known (most recent last).
_RENDERED: OrderedDict[tuple[Reply, int], tuple[str, int]] = OrderedDict()
_RENDERED_MAX = 512
_SENTENCES: OrderedDict[int, tuple[Pack, frozenset[str]]] = OrderedDict()


def _sentences(pack: Pack) -> frozenset[str]:
    """Every sentence of the pack, as written (the pack is held, so its id is not reused meanwhile)."""
    known = _SENTENCES.get(id(pack))
    if known is None or known[0] is not pack:
        known = (pack, frozenset(pack.strings.values()))
        _SENTENCES[id(pack)] = known
        while len(_SENTENCES) > 4:
            _SENTENCES.popitem(last=False)
    return known[1]


def _only_the_packs_words(pack: Pack, reply: Reply) -> bool:
    """Whether everything in `reply` is the pack's own: its sentence unfilled, its buttons' labels
    sentences of the pack and their values pack ids, no facts.

    Only such replies (the menu, yes/no questions, a flow's fixed choices) are kept rendered: nothing
    a person wrote or the bot knows about someone (a name, an email, a case reference) is held.
    """
    return (
        not reply.facts
        and reply.text == pack.strings.get(reply.key.removeprefix("strings."))
        and all(
            choice.label in _sentences(pack) and _PACK_ID.fullmatch(choice.value) for choice in reply.choices
        )
    )


def _reply_dicts(pack: Pack, reply: Reply, number: int) -> tuple[list[dict[str, Any]], int]:
    """A reply's blocks as plain JSON, its buttons and first block numbered from `number`; the
    next number.

    slack_sdk's `to_dict()` checks every element on every call (~0.1 ms a button): the pack's own
    replies, the same for everyone, are checked once and kept (bounded, least recently used out).
    """
    key = (reply, number)
    kept = _RENDERED.get(key)
    if kept is not None:
        _RENDERED.move_to_end(key)
        return json.loads(kept[0]), kept[1]
    counter = iter(range(number, 1_000_000))
    blocks = _dicts(_reply_blocks(reply, counter))
    after = next(counter)
    if _only_the_packs_words(pack, reply):
        _RENDERED[key] = (json.dumps(blocks), after)
        while len(_RENDERED) > _RENDERED_MAX:
            _RENDERED.popitem(last=False)
    return blocks, after


def render_replies(pack: Pack, replies: Sequence[Reply]) -> list[Message]:
    """One turn's replies as few messages as Slack's 50-block limit allows, buttons after their text."""
    number = 1
    text = pack.text("strings.slack_notification")
    messages: list[Message] = []
    current: list[dict[str, Any]] = []
    for reply in replies:
        blocks, number = _reply_dicts(pack, reply, number)
        if current and len(current) + len(blocks) > MESSAGE_BLOCKS:
            messages.append(Message(text, current))
            current = []
        for start in range(0, len(blocks), MESSAGE_BLOCKS):
            piece = blocks[start : start + MESSAGE_BLOCKS]
            if len(piece) == MESSAGE_BLOCKS:
                messages.append(Message(text, piece))
            else:
                current += piece
    if current:
        messages.append(Message(text, current))
    return messages


def render_notice(pack: Pack, key: str) -> Message:
    """A one-sentence message from the pack (a pointer to the DM, a refusal)."""
    sentence = pack.text(key)
    return Message(sentence, _dicts(_sections(escape(sentence))))


# --- App Home ------------------------------------------------------------------------------------


def _title(pack: Pack, flow_id: str) -> str:
    flow = pack.flow(flow_id)
    return pack.text(flow.title) if flow else flow_id


def _home_top(pack: Pack) -> list[Block]:
    """Start buttons for the menu's flows (the first one primary), then the directory search box."""
    starts = [f for f in pack.meta.menu if f != pack.meta.directory_flow]
    buttons = [
        _button(_title(pack, flow), f"{START}:{flow}", flow, style="primary" if i == 0 else None)
        for i, flow in enumerate(starts)
    ]
    search = PlainTextInputElement(
        action_id=SEARCH,
        placeholder=_plain(pack.text("strings.slack_home_search_hint"), 150),
        dispatch_action_config=DispatchActionConfig(trigger_actions_on=["on_enter_pressed"]),
        max_length=200,
    )
    return [
        HeaderBlock(text=_plain(pack.text("strings.slack_home_title"), HEADER_TEXT)),
        *_sections(escape(pack.text("strings.slack_home_intro"))),
        *_actions(buttons),
        InputBlock(
            block_id=SEARCH,
            label=_plain(_title(pack, pack.meta.directory_flow), 2000),
            element=search,
            dispatch_action=True,
            optional=True,
        ),
        ActionsBlock(elements=[_button(pack.text("strings.slack_home_search_button"), SEARCH_GO, SEARCH_GO)]),
        DividerBlock(),
        HeaderBlock(text=_plain(pack.text("strings.flow_my_cases"), HEADER_TEXT)),
    ]


def _case_blocks(pack: Pack, case: HomeCase) -> list[Block]:
    blocks: list[Block] = [
        _section(_clip(f"*{escape(case.reference)}*\n{escape(case.summary)}", SECTION_TEXT))
    ]
    for point in case.points:
        confirm = ConfirmObject(
            title=_plain(pack.text("strings.slack_confirm_done_title"), 100),
            text=_plain(fill(pack, "strings.slack_confirm_done_text", title=point.title), 300),
            confirm=_plain(pack.text("strings.slack_confirm_yes"), 30),
            deny=_plain(pack.text("strings.slack_confirm_no"), 30),
        )
        value = point_value(case.reference, point.id)
        blocks += [
            _section(_clip(f"*{escape(point.title)}*\n{escape(point.line)}", SECTION_TEXT)),
            ActionsBlock(
                elements=[
                    _button(
                        pack.text("strings.choice_done"),
                        f"{DONE}:{point.id}",
                        value,
                        style="primary",
                        confirm=confirm,
                    ),
                    _button(
                        pack.text("strings.slack_button_not_applicable"),
                        f"{NOT_APPLICABLE}:{point.id}",
                        value,
                    ),
                ]
            ),
        ]
    return blocks


def render_home(pack: Pack, cases: Sequence[HomeCase]) -> dict[str, Any]:
    """The App Home tab: start buttons, the directory search, each open case with its outstanding points.

    What does not fit in Slack's 100 blocks is left for the conversation ("my cases"), and says so.
    """
    blocks = _home_top(pack)
    if not cases:
        blocks += _sections(escape(pack.text("strings.my_cases_none")))
    room = VIEW_BLOCKS - len(blocks) - 1  # one left for the "there is more" note
    for case in cases:
        more = _case_blocks(pack, case)
        if len(more) > room:
            if room >= 3:  # the case, then whole points: never a point without its buttons
                blocks += more[: 1 + 2 * ((room - 1) // 2)]
            note = MarkdownTextObject(text=escape(pack.text("strings.slack_home_more")), verbatim=True)
            blocks.append(ContextBlock(elements=[note]))
            break
        blocks += more
        room -= len(more)
    return View(type="home", blocks=blocks).to_dict()


def render_refusal_home(pack: Pack, key: str) -> dict[str, Any]:
    """An App Home that only says why it cannot help (another organisation, no work email)."""
    blocks: list[Block] = [HeaderBlock(text=_plain(pack.text("strings.slack_home_title"), HEADER_TEXT))]
    return View(type="home", blocks=blocks + _sections(escape(pack.text(key)))).to_dict()


def render_reason_modal(pack: Pack, *, case: str, point: int) -> dict[str, Any]:
    """The modal asking why a point does not apply; the point travels in `private_metadata`."""
    reason = PlainTextInputElement(action_id=REASON, multiline=True, max_length=pack.meta.max_answer_length)
    return View(
        type="modal",
        callback_id=NOT_APPLICABLE_VIEW,
        title=_plain(pack.text("strings.slack_na_title"), VIEW_TITLE),
        submit=_plain(pack.text("strings.slack_na_submit"), VIEW_TITLE),
        close=_plain(pack.text("strings.slack_na_cancel"), VIEW_TITLE),
        private_metadata=point_value(case, point),
        blocks=[
            InputBlock(
                block_id=REASON, label=_plain(pack.text("strings.ask_na_reason"), 2000), element=reason
            )
        ],
    ).to_dict()
