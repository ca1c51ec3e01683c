"""The OPCC visits protocol (seed 004) as the dialog layer sees it: its steps, effects and cards.

A visit request moves through pending steps the pack's `visits.yaml` times (the Chief Executive
seeks the force's guidance, the force's liaison gives it, the Chief Executive records the issues
discussed, the Commissioner decides, the visitor debriefs). Each step's owner is sent a card: the
request's answers as facts, with buttons that start the pack's visit flow (`Visits.flow`) on the
request wherever the person is. These functions are pure: the outbox payload carries the values a
card shows, and the pack words them as the card is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dialogs.dates import day_text, when_text
from dialogs.render import fill
from dialogs.schema import Pack
from dialogs.types import Choice, Fact, Reply, start_step

__all__ = [
    "CARDS",
    "VISIT_NOTICES",
    "VISIT_STATUSES",
    "VISIT_STEPS",
    "Card",
    "card_step",
    "visit_string_keys",
]

Payload = Mapping[str, Any]

#: The steps the protocol runs, in order; `visits.yaml` times each one.
VISIT_STEPS = (
    "guidance_sought",
    "guidance_given",
    "issues_discussed",
    "decision",
    "await_permission",
    "debrief",
)

#: Where a request stands (`VisitRequest.status`), each worded by `strings.visit_status_<status>`.
VISIT_STATUSES = (
    "requested",
    "guidance_sought",
    "guidance_given",
    "issues_recorded",
    "referred",
    "approved",
    "declined",
    "debriefed",
)

#: The request's values a card may show, in the order it shows them. Each is labelled by
#: `strings.visit_label_<field>`; the chosen values of those in `_CHOSEN` by
#: `strings.visit_<field>_<value>`.
_FIELDS = (
    "reference",
    "visitor",
    "visitee",
    "investigation",
    "capacity",
    "proposed_on",
    "nature",
    "guidance",
    "guidance_text",
    "issues",
    "decided_as",
    "plan",
    "debrief_wanted",
    "reason",
)
_CHOSEN: dict[str, tuple[str, ...]] = {
    "visitee": ("victim", "family", "other"),
    "investigation": ("yes", "not_sure"),
    "capacity": ("office", "councillor", "community", "pastoral", "personal"),
    "guidance": ("no_concerns", "concerns"),
    "decided_as": ("commissioner", "chief_executive_for_commissioner"),
    "debrief_wanted": ("yes", "no"),
}


@dataclass(frozen=True)
class Card:
    """A message of the protocol: its opening line, the request's fields it shows, its buttons."""

    intro: str
    fields: tuple[str, ...]
    buttons: tuple[str, ...] = ()


_BRIEFING = ("reference", "visitor", "visitee", "investigation", "capacity", "proposed_on", "nature")

#: Every card, by its outbox kind (at most 20 characters: the outbox's column).
CARDS: dict[str, Card] = {
    "visit_briefing": Card("strings.visit_card_briefing", _BRIEFING, ("seek_guidance",)),
    # The force is told what it needs to find a linked investigation; the OPCC gets only its guidance.
    "visit_guidance_ask": Card(
        "strings.visit_card_guidance_ask",
        ("reference", "visitee", "capacity", "proposed_on", "nature"),
        ("no_concerns", "concerns"),
    ),
    "visit_guidance": Card(
        "strings.visit_card_guidance", ("reference", "guidance", "guidance_text"), ("record_issues",)
    ),
    "visit_decide": Card(
        "strings.visit_card_decide",
        (*_BRIEFING, "guidance", "guidance_text", "issues"),
        ("approve", "decline"),
    ),
    "visit_approved": Card(
        "strings.visit_card_approved", ("reference", "proposed_on", "decided_as", "plan", "debrief_wanted")
    ),
    "visit_declined": Card("strings.visit_card_declined", ("reference", "decided_as", "reason")),
    "visit_debrief_ask": Card(
        "strings.visit_card_debrief_ask", ("reference", "proposed_on", "plan"), ("debrief",)
    ),
    "visit_not_yet": Card("strings.visit_card_not_yet", ("reference", "proposed_on")),
    "visit_debriefed": Card("strings.visit_card_debriefed", ("reference", "visitor", "proposed_on")),
}


def card_step(flow: str, reference: str) -> str:
    """The step a card's buttons carry: start `flow` on request `reference` with the button's value."""
    return start_step(flow, reference)


def visit_string_keys() -> frozenset[str]:
    """The strings a pack with `visits.yaml` needs for the labels and values its cards show."""
    keys = {f"strings.visit_label_{field}" for field in _FIELDS}
    keys |= {f"strings.visit_{field}_{value}" for field, values in _CHOSEN.items() for value in values}
    keys |= {f"strings.visit_choice_{button}" for card in CARDS.values() for button in card.buttons}
    keys |= {f"strings.visit_status_{status}" for status in VISIT_STATUSES}
    return frozenset(keys)


def _value(pack: Pack, field: str, value: Any) -> str:
    if field in _CHOSEN:
        return pack.strings.get(f"visit_{field}_{value}", str(value))
    if field == "proposed_on":
        return day_text(pack, value)
    return str(value)


def card_facts(pack: Pack, fields: tuple[str, ...], values: Payload) -> tuple[Fact, ...]:
    """The fields of a request a card shows (those it has a value for), labelled by the pack."""
    return tuple(
        Fact(label=pack.text(f"strings.visit_label_{field}"), value=_value(pack, field, values[field]))
        for field in fields
        if values.get(field) not in (None, "")
    )


def _card(pack: Pack, kind: str, payload: Payload) -> Reply:
    card = CARDS[kind]
    reference = str(payload["reference"])
    flow = pack.visits.flow if pack.visits else ""
    choices = tuple(
        Choice(value=button, label=pack.text(f"strings.visit_choice_{button}")) for button in card.buttons
    )
    return Reply(
        key=card.intro,
        text=fill(pack, card.intro, reference=reference, visitor=payload.get("visitor", "")),
        facts=card_facts(pack, card.fields, payload),
        choices=choices,
        step=card_step(flow, reference) if choices else None,
    )


def _nudge(pack: Pack, payload: Payload, now: datetime) -> list[Reply]:
    """A reminder of a step: when it is (or was) due, then its card again, buttons and all.

    A card with nothing to press (wait for permission) is its own reminder.
    """
    card = str(payload["card"])
    if not CARDS[card].buttons:
        return [_card(pack, card, payload)]
    title = _step_title(pack, str(payload["step"]))
    due = str(payload["due"])
    key = "strings.visit_nudge_overdue" if datetime.fromisoformat(due) <= now else "strings.visit_nudge"
    header = Reply(
        key=key, text=fill(pack, key, reference=payload["reference"], title=title, due=when_text(pack, due))
    )
    return [header, _card(pack, card, payload)]


def _escalations(pack: Pack, payload: Payload, now: datetime) -> list[Reply]:
    """The steps escalated to one person in one sweep, one after another in one message.

    A row queued before escalations were grouped holds one step's payload itself.
    """
    steps = payload.get("steps")
    if not isinstance(steps, list):
        return _escalation(pack, payload, now)
    return [reply for step in steps if isinstance(step, dict) for reply in _escalation(pack, step, now)]


def _escalation(pack: Pack, payload: Payload, now: datetime) -> list[Reply]:
    """A step its owner has not done, to whoever the pack says chases it."""
    owner = pack.strings.get(f"visit_owner_{payload['owner']}", str(payload["owner"]))
    key = "strings.visit_escalation"
    text = fill(
        pack,
        key,
        reference=payload["reference"],
        title=_step_title(pack, str(payload["step"])),
        owner=owner,
        due=when_text(pack, payload["due"]),
    )
    return [Reply(key=key, text=text, facts=card_facts(pack, _BRIEFING, payload))]


def _step_title(pack: Pack, code: str) -> str:
    spec = pack.visits.steps.get(code) if pack.visits else None
    return pack.text(spec.title) if spec else code


def visit_replies(pack: Pack, kind: str, payload: Payload, *, now: datetime) -> list[Reply]:
    """The replies of an outbox row of a visit kind (a card, a step's reminder, an escalation)."""
    if kind == "visit_nudge":
        return _nudge(pack, payload, now)
    if kind == "visit_escalation":
        return _escalations(pack, payload, now)
    return [_card(pack, kind, payload)]


#: The outbox kinds of the protocol (merged into `dialogs.notices.NOTICE_KINDS`).
VISIT_NOTICES: tuple[str, ...] = (*CARDS, "visit_nudge", "visit_escalation")
