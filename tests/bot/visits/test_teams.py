"""The visit cards in Teams: valid Adaptive Cards whose buttons come back as the visit flow's picks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bot.channels.teams.cards import read_submit, render_cards
from dialogs.notices import notice_replies
from dialogs.schema import Pack
from dialogs.visits import VISIT_NOTICES, card_step
from tests.fake_teams import card_errors

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PAYLOAD = {
    "reference": "OV-2026-0001",
    "visitor": "Lee Moss",
    "visitee": "victim",
    "investigation": "yes",
    "capacity": "office",
    "proposed_on": "2026-12-04",
    "nature": "Views on victim services",
    "guidance": "no_concerns",
    "issues": "Timing",
    "plan": "With the family liaison officer",
    "debrief_wanted": "yes",
    "decided_as": "chief_executive_for_commissioner",
    "step": "decision",
    "card": "visit_decide",
    "owner": "commissioner",
    "due": "2026-11-20T09:00:00+00:00",
}


def test_every_visit_card_is_a_valid_adaptive_card_whose_buttons_start_the_visit_flow(pack: Pack) -> None:
    pressed = []
    for kind in VISIT_NOTICES:
        cards = render_cards(notice_replies(pack, kind, PAYLOAD, now=NOW), pack)
        for card in cards:
            assert card_errors(card) == [], kind
            for data in _submits(card):
                submitted = read_submit(data)
                pick = submitted.pick() if submitted is not None else None
                assert pick is not None
                pressed.append(pick)
    assert {p.step for p in pressed} == {card_step("visit_action", "OV-2026-0001")}
    assert {p.value for p in pressed} >= {
        "seek_guidance",
        "no_concerns",
        "concerns",
        "approve",
        "decline",
        "debrief",
    }


def _submits(node: Any) -> Iterator[Any]:
    """The `data` of every Action.Submit in a card."""
    if isinstance(node, dict):
        if node.get("type") == "Action.Submit":
            yield node["data"]
        for value in node.values():
            yield from _submits(value)
    elif isinstance(node, list):
        for value in node:
            yield from _submits(value)
