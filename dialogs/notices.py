"""What the bot says unprompted: nudges, escalations, digests and notices to the victim.

The outbox stores a kind and a payload of ids and times (never an account of the incident); these
pure functions turn them into replies worded by the pack. A nudge carries buttons whose step names
the case and the point, so a press starts the pack's nudge flow wherever the person is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from dialogs.clock import format_when
from dialogs.render import fill, point_title
from dialogs.schema import Pack
from dialogs.types import NUDGE_STEP, Choice, Fact, Reply

__all__ = ["NOTICE_KINDS", "notice_replies", "nudge_step"]

Payload = Mapping[str, Any]


def nudge_step(reference: str, point_id: int) -> str:
    """The step a nudge's buttons carry: which case and which point they act on."""
    return f"{NUDGE_STEP}/{reference}/{point_id}"


def _reply(pack: Pack, key: str, **values: Any) -> Reply:
    return Reply(key=key, text=fill(pack, key, **values))


def _when(pack: Pack, value: Any) -> str:
    return format_when(str(value), timezone=pack.meta.timezone) if value else ""


def _nudge(pack: Pack, payload: Payload, now: datetime) -> list[Reply]:
    code = str(payload["code"])
    spec = next((p for p in pack.plan.points if p.code == code), None)
    text = (spec.nudge if spec else point_title(pack, code)).format_map({"reference": payload["reference"]})
    due = str(payload["due"])
    timing = "strings.nudge_overdue" if datetime.fromisoformat(due) < now else "strings.nudge_due"
    reply = _reply(pack, "strings.nudge", reference=payload["reference"], nudge=text)
    choices = tuple(
        Choice(value=value, label=fill(pack, label))
        for value, label in (
            ("done", "strings.choice_nudge_done"),
            ("not_applicable", "strings.choice_nudge_na"),
            ("snooze", "strings.choice_nudge_snooze"),
        )
    )
    return [
        reply.model_copy(
            update={
                "text": f"{reply.text} {fill(pack, timing, due=_when(pack, due))}",
                "choices": choices,
                "step": nudge_step(str(payload["reference"]), int(payload["point"])),
            }
        )
    ]


def _unassigned(pack: Pack, payload: Payload, now: datetime) -> list[Reply]:
    title = point_title(pack, str(payload["code"]), payload.get("instance"))
    return [_reply(pack, "strings.nudge_unassigned", reference=payload["reference"], title=title)]


def _escalation(pack: Pack, payload: Payload, now: datetime) -> list[Reply]:
    title = point_title(pack, str(payload["code"]), payload.get("instance"))
    owner = payload.get("owner_name") or pack.strings.get(f"owner_{payload.get('owner')}", "")
    return [
        _reply(
            pack,
            "strings.escalation",
            reference=payload["reference"],
            title=title,
            owner=owner,
            due=_when(pack, payload["due"]),
        )
    ]


def _digest(pack: Pack, payload: Payload, now: datetime) -> list[Reply]:
    facts = tuple(
        Fact(
            label=str(line["reference"]),
            value=fill(
                pack,
                "strings.digest_line",
                title=point_title(pack, str(line["code"]), line.get("instance")),
                due=_when(pack, line["due"]),
            ),
        )
        for line in payload.get("points", [])
    )
    return [_reply(pack, "strings.digest").model_copy(update={"facts": facts})]


def _slt_new_case(pack: Pack, payload: Payload, now: datetime) -> list[Reply]:
    return [_reply(pack, "strings.slt_new_case", reference=payload["reference"])]


def _victim_io(pack: Pack, payload: Payload, now: datetime) -> list[Reply]:
    return [
        _reply(
            pack,
            "strings.victim_io_assigned",
            reference=payload["reference"],
            io_name=payload["io_name"],
            io_email=payload["io_email"],
        )
    ]


def _victim_decision(pack: Pack, payload: Payload, now: datetime) -> list[Reply]:
    if pack.meta.nudges.decision_detail_to_victim:
        decision = pack.strings.get(f"decision_{payload['decision']}", str(payload["decision"]))
        return [
            _reply(pack, "strings.victim_decision_named", reference=payload["reference"], decision=decision)
        ]
    return [_reply(pack, "strings.victim_decision", reference=payload["reference"])]


NOTICE_KINDS: dict[str, Callable[[Pack, Payload, datetime], list[Reply]]] = {
    "nudge": _nudge,
    "unassigned": _unassigned,
    "escalation": _escalation,
    "digest": _digest,
    "slt_new_case": _slt_new_case,
    "victim_io": _victim_io,
    "victim_decision": _victim_decision,
}


def notice_replies(pack: Pack, kind: str, payload: Payload, *, now: datetime) -> list[Reply]:
    """The replies for an outbox row of `kind` with `payload`."""
    return NOTICE_KINDS[kind](pack, payload, now)
