"""What the bot says unprompted: nudges, escalations, digests and notices to the victim.

The outbox stores a kind and a payload of ids and times (never an account of the incident); these
pure functions turn them into replies worded by the pack, as of the moment they are sent. Reminders,
escalations and digests are grouped: a payload lists `cases`, each with its `points`. A reminder is
a header and one reply per point, whose buttons name the point and carry a step with the case, the
point and the message, so a press starts the pack's nudge flow wherever the person is and the
message can then be updated to show what was done.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from dialogs import associations, leaflet
from dialogs.dates import when_text
from dialogs.render import figures_chart, figures_facts, fill, point_title
from dialogs.schema import Pack
from dialogs.types import NUDGE_STEP, Choice, Fact, Reply, start_step
from dialogs.visits import VISIT_NOTICES, visit_replies

__all__ = [
    "GUIDES",
    "NOTICE_KINDS",
    "PointOutcome",
    "named_references",
    "notice_replies",
    "nudge_step",
    "payload_cases",
    "payload_points",
]

Payload = Mapping[str, Any]


@dataclass(frozen=True)
class PointOutcome:
    """What became of a point a reminder listed: closed or snoozed, by whom (None: by the bot), when."""

    status: Literal["done", "not_applicable", "snoozed"]
    by: str | None
    at: datetime


@dataclass(frozen=True)
class _Context:
    now: datetime
    nudge_id: int | None
    outcomes: Mapping[int, PointOutcome]


def nudge_step(reference: str, point_id: int, nudge_id: int | None = None) -> str:
    """The step a reminder's buttons carry: the case, the point and (to update it) the message."""
    step = f"{NUDGE_STEP}/{reference}/{point_id}"
    return f"{step}/{nudge_id}" if nudge_id is not None else step


def payload_cases(payload: Payload) -> list[Payload]:
    """A payload's cases, each with its points; rows queued before grouping read as one-point groups."""
    if "cases" in payload:
        return list(payload["cases"])
    if "point" in payload:  # one point (a nudge, an escalation, or an IO point with no IO)
        return [{"reference": payload["reference"], "points": [payload]}]
    cases: dict[str, list[Payload]] = {}
    for line in payload.get("points", []):  # a digest: lines that each name their case
        cases.setdefault(str(line["reference"]), []).append(line)
    return [{"reference": reference, "points": points} for reference, points in cases.items()]


def named_references(payload: Payload) -> list[str]:
    """The case references a message's payload names, in order, each once."""
    named = [str(case["reference"]) for case in payload_cases(payload) if "reference" in case]
    if "reference" in payload:
        named.insert(0, str(payload["reference"]))
    return list(dict.fromkeys(named))


def payload_points(payload: Payload) -> list[int]:
    """The ids of the points a grouped payload (reminder, escalation, digest) lists."""
    return [
        int(p["point"]) for case in payload_cases(payload) for p in case.get("points", []) if "point" in p
    ]


def _reply(pack: Pack, key: str, **values: Any) -> Reply:
    return Reply(key=key, text=fill(pack, key, **values))


def _title(pack: Pack, point: Payload) -> str:
    return point_title(pack, str(point["code"]), point.get("instance"))


def _timing(pack: Pack, point: Payload, now: datetime) -> str:
    """ "Overdue since …" if it is overdue as the message goes out, else "Due …"."""
    due = str(point["due"])
    key = "strings.nudge_overdue" if datetime.fromisoformat(due) <= now else "strings.nudge_due"
    return fill(pack, key, due=when_text(pack, due))


_ANSWERED = {
    "done": "strings.nudge_answered_done",
    "not_applicable": "strings.nudge_answered_not_applicable",
    "snoozed": "strings.nudge_answered_snoozed",
}
_CHOICES = (
    ("done", "strings.choice_nudge_done_point"),
    ("not_applicable", "strings.choice_nudge_na_point"),
    ("snooze", "strings.choice_nudge_snooze_point"),
)


def _reminder_point(pack: Pack, reference: str, point: Payload, ctx: _Context) -> Reply:
    title = _title(pack, point)
    outcome = ctx.outcomes.get(int(point["point"]))
    if outcome is not None:
        by = outcome.by or pack.text("strings.nudge_by_bot")
        return _reply(pack, _ANSWERED[outcome.status], title=title, by=by, when=when_text(pack, outcome.at))
    if point.get("unassigned"):
        return _reply(pack, "strings.nudge_unassigned", reference=reference, title=title)
    reply = _reply(pack, "strings.nudge_point", title=title, timing=_timing(pack, point, ctx.now))
    choices = tuple(
        Choice(value=value, label=fill(pack, label, title=title, reference=reference))
        for value, label in _CHOICES
    )
    step = nudge_step(reference, int(point["point"]), ctx.nudge_id)
    return reply.model_copy(update={"choices": choices, "step": step})


#: What a point's reminder adds (its spec's `guide`): what to do, and whom to contact.
GUIDES: dict[str, Callable[[Pack, Payload], list[Reply]]] = {
    "association": associations.guidance,
    "leaflet": leaflet.guidance,
}


def _guided(pack: Pack, reply: Reply, point: Payload, ctx: _Context) -> Reply:
    """The point's reminder line with its guidance below it while it is open (the sweep puts what
    the guidance needs in `about`): one message per point, so its buttons stay with it."""
    spec = pack.plan.point(str(point.get("code")))
    if spec is None or spec.guide is None or "about" not in point or int(point["point"]) in ctx.outcomes:
        return reply
    guidance = GUIDES[spec.guide](pack, point["about"])
    text = "\n\n".join([reply.text, *(g.text for g in guidance)])
    facts = reply.facts + tuple(f for g in guidance for f in g.facts)
    return reply.model_copy(update={"text": text, "facts": facts})


def _nudge(pack: Pack, payload: Payload, ctx: _Context) -> list[Reply]:
    """One case's reminder: a line per point, each open one with buttons that name it."""
    replies = []
    for case in payload_cases(payload):
        reference = str(case["reference"])
        replies.append(_reply(pack, "strings.nudge", reference=reference))
        replies += [
            _guided(pack, _reminder_point(pack, reference, point, ctx), point, ctx)
            for point in case.get("points", [])
        ]
    return replies


def _by_case(pack: Pack, payload: Payload, line: Callable[[Payload], str]) -> tuple[Fact, ...]:
    return tuple(
        Fact(label=str(case["reference"]), value="\n".join(line(point) for point in case.get("points", [])))
        for case in payload_cases(payload)
        if case.get("points")
    )


def _escalation(pack: Pack, payload: Payload, ctx: _Context) -> list[Reply]:
    """The overdue points of each case, to someone who can chase them (never their owner)."""

    def line(point: Payload) -> str:
        owner = point.get("owner_name") or pack.strings.get(f"owner_{point.get('owner')}", "")
        return fill(
            pack,
            "strings.escalation_line",
            title=_title(pack, point),
            owner=owner,
            due=when_text(pack, point["due"]),
        )

    replies = [_reply(pack, "strings.escalation").model_copy(update={"facts": _by_case(pack, payload, line)})]
    if payload.get("more"):  # a backlog: the rest are counted, not listed (one message per sweep)
        replies.append(_reply(pack, "strings.escalation_more", count=payload["more"]))
    return replies


def _digest(pack: Pack, payload: Payload, ctx: _Context) -> list[Reply]:
    def line(point: Payload) -> str:
        return fill(pack, "strings.digest_line", title=_title(pack, point), due=when_text(pack, point["due"]))

    return [_reply(pack, "strings.digest").model_copy(update={"facts": _by_case(pack, payload, line)})]


def _slt_new_case(pack: Pack, payload: Payload, ctx: _Context) -> list[Reply]:
    replies = [_reply(pack, "strings.slt_new_case", reference=payload["reference"])]
    if payload.get("repeat"):
        replies.append(_reply(pack, "strings.repeat_victim_slt", previous=payload["repeat"]))
    return replies


#: The report a supervisor is prompted to start for a colleague who told the bot (the button's
#: value is the colleague's email, the report's `given` victim).
_REPORT_FOR = start_step("report_assault")


def _victim_disclosure(pack: Pack, payload: Payload, ctx: _Context) -> list[Reply]:
    """A colleague told the bot they were assaulted: their supervisor, asked to start the report."""
    reply = _reply(
        pack, "strings.disclosure_to_supervisor", name=payload["victim_name"], email=payload["victim_email"]
    )
    start = Choice(value=str(payload["victim_email"]), label=pack.text("strings.choice_start_report_for"))
    return [reply.model_copy(update={"choices": (start,), "step": _REPORT_FOR})]


def _fim_hospital(pack: Pack, payload: Payload, ctx: _Context) -> list[Reply]:
    area = pack.strings.get(f"area_{payload['area']}", str(payload["area"]))
    return [_reply(pack, "strings.fim_hospital", reference=payload["reference"], area=area)]


def _victim_io(pack: Pack, payload: Payload, ctx: _Context) -> list[Reply]:
    return [
        _reply(
            pack,
            "strings.victim_io_assigned",
            reference=payload["reference"],
            io_name=payload["io_name"],
            io_email=payload["io_email"],
        )
    ]


def _victim_decision(pack: Pack, payload: Payload, ctx: _Context) -> list[Reply]:
    if pack.meta.nudges.decision_detail_to_victim:
        decision = pack.strings.get(f"decision_{payload['decision']}", str(payload["decision"]))
        return [
            _reply(pack, "strings.victim_decision_named", reference=payload["reference"], decision=decision)
        ]
    return [_reply(pack, "strings.victim_decision", reference=payload["reference"])]


def _unassigned(pack: Pack, payload: Payload, ctx: _Context) -> list[Reply]:
    """A row queued before grouping, about an IO point with no IO: a reminder of that one point."""
    cases = [
        {**c, "points": [{**p, "unassigned": True} for p in c["points"]]} for c in payload_cases(payload)
    ]
    return _nudge(pack, {"cases": cases}, ctx)


def _report_summary(pack: Pack, payload: Payload, ctx: _Context) -> list[Reply]:
    """The SPOC's weekly summary: the week's headline figures and the chart of cases by month."""
    reply = _reply(pack, "strings.report_chat_weekly", covering=payload.get("covering", ""))
    return [
        reply.model_copy(
            update={"facts": tuple(figures_facts(payload)), "chart": figures_chart(pack, payload)}
        )
    ]


def _visit(kind: str) -> Callable[[Pack, Payload, _Context], list[Reply]]:
    """The notices of the OPCC visits protocol (`dialogs.visits`)."""

    def render(pack: Pack, payload: Payload, ctx: _Context) -> list[Reply]:
        return visit_replies(pack, kind, payload, now=ctx.now)

    return render


NOTICE_KINDS: dict[str, Callable[[Pack, Payload, _Context], list[Reply]]] = {
    "nudge": _nudge,
    "unassigned": _unassigned,
    "escalation": _escalation,
    "digest": _digest,
    "slt_new_case": _slt_new_case,
    "victim_disclosure": _victim_disclosure,
    "fim_hospital": _fim_hospital,
    "victim_io": _victim_io,
    "victim_decision": _victim_decision,
    "report_summary": _report_summary,
    **{kind: _visit(kind) for kind in VISIT_NOTICES},
    "association_notice": lambda pack, payload, ctx: associations.notice_replies(pack, payload),
    "victim_leaflet": lambda pack, payload, ctx: leaflet.leaflet_replies(pack, payload),
    "leaflet_handover": lambda pack, payload, ctx: leaflet.handover_replies(pack, payload),
}


def notice_replies(
    pack: Pack,
    kind: str,
    payload: Payload,
    *,
    now: datetime,
    nudge_id: int | None = None,
    outcomes: Mapping[int, PointOutcome] | None = None,
) -> list[Reply]:
    """The replies for an outbox row of `kind` with `payload`, worded as of `now`.

    Args:
        nudge_id: the row's id, carried by a reminder's buttons so a press can update the message.
        outcomes: points of a reminder already answered: shown as done (by whom), without buttons.
    """
    return NOTICE_KINDS[kind](pack, payload, _Context(now, nudge_id, outcomes or {}))
