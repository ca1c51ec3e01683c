"""Adaptive Cards 1.5 for Microsoft Teams, as plain JSON: rendering replies and reading submits.

The replies of one turn become one card (split only when a card would be too large), so a turn
costs one send against Teams' per-conversation rate limit. Each reply is a Container whose `id` is
the reply's string key, so tests can assert message ids rather than wording. Choices become
Action.Submit buttons whose `data` carries the question's step and the choice's value; a question
with many choices becomes one expanded Input.ChoiceSet and a single submit button, because Teams
shows only a handful of buttons in a row.

Text is plain in the pack, but Teams renders TextBlocks as Markdown, so the characters that form
Markdown (links, emphasis, code) are escaped: what a person typed is shown exactly as typed and
can never become a link in a colleague's chat. No botbuilder import here: this module survives a
move to another Teams SDK unchanged.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dialogs.schema import Pack
from dialogs.types import Chart, ChoicePick, Fact, Reply

__all__ = [
    "CARD_CONTENT_TYPE",
    "MAX_BUTTONS",
    "Submitted",
    "escape_markdown",
    "read_submit",
    "render_cards",
]

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
#: Up to this many choices show as buttons; more become a list with one submit button.
MAX_BUTTONS = 5
#: Teams refuses cards over about 28 KB; stay well below it.
MAX_CARD_BYTES = 24_000
#: A submitted value longer than this is not one of our choice values.
_MAX_VALUE_LENGTH = 200

_MARKDOWN = re.compile(r"([\\`*_\[\]])")
_BULLET = re.compile(r"^(\s*)([-+])(?=\s)")
_NUMBERED = re.compile(r"^(\s*\d+)([.)])(?=\s)")
_HARD_BREAK = re.compile(r"^\s*([•\-*+]|\d+[.)])\s")


def escape_markdown(text: str) -> str:
    """`text` with the characters Teams would read as Markdown escaped, so it shows as typed."""
    text = _MARKDOWN.sub(r"\\\1", text)
    return _NUMBERED.sub(r"\1\\\2", _BULLET.sub(r"\1\\\2", text))


def _lines(text: str) -> list[list[str]]:
    """Paragraphs of display lines: blank lines separate paragraphs; a wrapped line is rejoined.

    Pack strings are wrapped by hand in YAML, and Teams would otherwise run all lines together
    (Markdown needs a blank line to break). A line starting with a bullet or a number, or following
    one ending in a colon, keeps its own line.
    """
    paragraphs: list[list[str]] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines: list[str] = []
        for raw in block.splitlines():
            line = raw.strip()
            if not line:
                continue
            if lines and not _HARD_BREAK.match(line) and not lines[-1].endswith(":"):
                lines[-1] = f"{lines[-1]} {line}"
            else:
                lines.append(line)
        if lines:
            paragraphs.append(lines)
    return paragraphs


def _text_blocks(text: str, *, weight: str | None = None) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for number, paragraph in enumerate(_lines(text)):
        for index, line in enumerate(paragraph):
            block: dict[str, Any] = {"type": "TextBlock", "text": escape_markdown(line), "wrap": True}
            if index:
                block["spacing"] = "None"
            elif number:
                block["spacing"] = "Medium"
            if weight:
                block["weight"] = weight
            blocks.append(block)
    return blocks


def _facts(facts: Sequence[Fact]) -> list[dict[str, Any]]:
    if all("\n" not in f.value for f in facts):
        return [
            {
                "type": "FactSet",
                "facts": [
                    {"title": escape_markdown(f.label), "value": escape_markdown(f.value)} for f in facts
                ],
            }
        ]
    items: list[dict[str, Any]] = []
    for fact in facts:
        label = {"type": "TextBlock", "text": escape_markdown(fact.label), "wrap": True, "weight": "Bolder"}
        values = [
            {"type": "TextBlock", "text": escape_markdown(line.strip()), "wrap": True, "spacing": "None"}
            for line in fact.value.splitlines()
            if line.strip()
        ]
        items.append({"type": "Container", "spacing": "Medium", "items": [label, *values]})
    return items


def _choices(reply: Reply, number: int, pack: Pack) -> list[dict[str, Any]]:
    step = reply.step or ""
    if len(reply.choices) <= MAX_BUTTONS:
        actions = [
            {"type": "Action.Submit", "title": c.label, "data": {"step": step, "value": c.value}}
            for c in reply.choices
        ]
        return [{"type": "ActionSet", "actions": actions}]
    input_id = f"choice_{number}"
    return [
        {
            "type": "Input.ChoiceSet",
            "id": input_id,
            "style": "expanded",
            "isRequired": True,
            "errorMessage": pack.text("strings.pick_one"),
            "choices": [{"title": c.label, "value": c.value} for c in reply.choices],
        },
        {
            "type": "ActionSet",
            "actions": [
                {
                    "type": "Action.Submit",
                    "title": pack.text("strings.teams_choose"),
                    "data": {"step": step, "input": input_id},
                    "associatedInputs": "auto",
                }
            ],
        },
    ]


def _image(chart: Chart) -> dict[str, Any]:
    """A chart as an Image element: the PNG inline (a data URI), so nothing is fetched from elsewhere."""
    from bot.reports.charts import chart_image

    data = base64.b64encode(chart_image(chart)).decode("ascii")
    return {
        "type": "Image",
        "url": f"data:image/png;base64,{data}",
        "altText": chart.title,
        "size": "Stretch",
    }


def _container(reply: Reply, number: int, key: str, pack: Pack) -> dict[str, Any]:
    items = _text_blocks(reply.text)
    if reply.facts:
        items += _facts(reply.facts)
    if reply.chart is not None:
        items.append(_image(reply.chart))
    if reply.choices:
        items += _choices(reply, number, pack)
    if not items:
        items = [{"type": "TextBlock", "text": " ", "wrap": True}]
    container: dict[str, Any] = {"type": "Container", "id": key, "items": items}
    if number:
        container["spacing"] = "Large"
    return container


def _card(body: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "AdaptiveCard", "$schema": SCHEMA_URL, "version": "1.5", "body": body}


def _size(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())


def render_cards(replies: Iterable[Reply], pack: Pack) -> list[dict[str, Any]]:
    """The replies of one turn as Adaptive Cards: usually one, more only if one would be too big."""
    cards: list[list[dict[str, Any]]] = []
    used: dict[str, int] = {}
    size = 0
    for number, reply in enumerate(replies):
        used[reply.key] = used.get(reply.key, 0) + 1
        key = reply.key if used[reply.key] == 1 else f"{reply.key}#{used[reply.key]}"
        container = _container(reply, number, key, pack)
        grows = _size(container)
        if not cards or size + grows > MAX_CARD_BYTES:
            container.pop("spacing", None)
            cards.append([])
            size = _size(_card([]))
        cards[-1].append(container)
        size += grows
    return [_card(body) for body in cards]


@dataclass(frozen=True)
class Submitted:
    """A press of one of our submit buttons: the question's step and the value chosen.

    `value` is None when the person pressed the submit button of a list without choosing.
    """

    step: str
    value: str | None

    def pick(self) -> ChoicePick | None:
        """The pick to give the router, if a value was chosen."""
        return ChoicePick(step=self.step, value=self.value) if self.value is not None else None


def _short_text(value: object) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= _MAX_VALUE_LENGTH:
        return value
    return None


def read_submit(data: object) -> Submitted | None:
    """What an Action.Submit (or Action.Execute) press sent, or None if it is not from our cards.

    Submit merges the button's `data` with the card's inputs: `{"step", "value"}` from a button, or
    `{"step", "input", "<input id>": value}` from a list.
    """
    if not isinstance(data, Mapping):
        return None
    step = _short_text(data.get("step"))
    if step is None:
        return None
    if "value" in data:
        return Submitted(step, _short_text(data.get("value")))
    input_id = _short_text(data.get("input"))
    chosen = data.get(input_id) if input_id else None
    return Submitted(step, _short_text(chosen))
