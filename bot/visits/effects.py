"""The effects of the visit flows, run against the store inside the turn's transaction.

Each handler reads the effect's arguments (slots of `dialogs.effects.VISIT_EFFECTS`), asks
`bot.visits.service`, and returns the outcome the flow branches on. Merged into
`bot.cases.effects.HANDLERS`, whose `TurnContext` they receive.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from pydantic import JsonValue

from bot.visits import service
from bot.visits.service import Briefing
from store.audit import record_probe
from store.models import Person, VisitRequest
from store.visits import find_visit, visits_of

if TYPE_CHECKING:
    from bot.cases.effects import TurnContext

__all__ = ["VISIT_HANDLERS"]

Outcome = tuple[str, dict[str, JsonValue]]


def _text(value: JsonValue) -> str:
    return str(value).strip() if value is not None else ""


def check_visitor(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """Whether the person is someone the OPCC visits protocol covers."""
    return ("visitor" if service.may_request(ctx.pack, ctx.actor) else "not_visitor"), {}


def request_visit(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """Record the request and brief the Chief Executive, exactly once per confirmation."""
    investigation = _text(args["investigation"])
    briefing = Briefing(
        visitee=_text(args["visitee"]),
        # "Not sure" is kept as said: the protocol treats it as yes (seed 004, 8).
        investigation=investigation,
        nature=_text(args["visit_nature"]),
        capacity=_text(args["capacity"]),
        proposed_on=date.fromisoformat(_text(args["proposed_on"])),
    )
    request, created = service.request_visit(
        ctx.pack, session=ctx.session, visitor=ctx.actor, briefing=briefing,
        submission_key=f"{ctx.surface}:{ctx.instance}", surface=ctx.surface, now=ctx.now,
    )  # fmt: skip
    if request is None:
        return "not_visitor", {}
    return ("requested" if created else "duplicate"), {"reference": request.reference}


def list_my_visits(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """The person's requests, newest first: "waiting" while any awaits a decision (each view audited)."""
    requests = visits_of(session=ctx.session, visitor=ctx.actor)[:10]
    for request in requests:
        service.audit_view(ctx.session, ctx.actor, request, ctx.surface, ctx.now)
    listed: list[JsonValue] = [
        {"reference": r.reference, "status": r.status, "proposed_on": r.proposed_on.isoformat()}
        for r in requests
    ]
    undecided = any(r.decided_at is None for r in requests)
    return ("none" if not requests else "waiting" if undecided else "decided"), {"visits": listed}


#: The roles that take a part in every visit request (its visitor takes part in their own).
_PROTOCOL_ROLES = frozenset(role for _, roles in service.ACTIONS.values() for role in roles) - {"visitor"}


def _has_part(person: Person, request: VisitRequest) -> bool:
    """Whether `person` takes part in `request`: its visitor, or a holder of a role of the protocol."""
    return person.id == request.visitor_id or any(r.role in _PROTOCOL_ROLES for r in person.roles)


def _acting(
    act: Callable[[TurnContext, VisitRequest, dict[str, JsonValue]], str],
) -> Callable[[dict[str, JsonValue], TurnContext], Outcome]:
    """A handler that finds the request named by the `visit` slot, then does `act` on it."""

    def handler(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
        reference = _text(args["visit"])
        request = find_visit(session=ctx.session, reference=reference)
        if request is None or not _has_part(ctx.actor, request):
            # A stranger is answered as for a reference that names nothing, and both are audited.
            return record_probe(
                session=ctx.session, person=ctx.actor, named="visit", reference=reference,
                found=request is not None, surface=ctx.surface, now=ctx.now,
            ), {}  # fmt: skip
        return act(ctx, request, args), {"reference": request.reference}

    handler.__doc__ = act.__doc__
    return handler


def _check(ctx: TurnContext, request: VisitRequest, args: dict[str, JsonValue]) -> str:
    """Whether the button's step is still open and the person's to do."""
    return service.check_step(
        ctx.pack, session=ctx.session, actor=ctx.actor, request=request, action=_text(args["visit_action"]),
        surface=ctx.surface, now=ctx.now,
    )  # fmt: skip


def _seek(ctx: TurnContext, request: VisitRequest, args: dict[str, JsonValue]) -> str:
    """The Chief Executive asks the force's liaison for guidance."""
    return service.seek_guidance(
        ctx.pack, session=ctx.session, actor=ctx.actor, request=request, surface=ctx.surface, now=ctx.now
    )


def _guidance(ctx: TurnContext, request: VisitRequest, args: dict[str, JsonValue]) -> str:
    """The force's liaison gives the force's guidance."""
    return service.give_guidance(
        ctx.pack, session=ctx.session, actor=ctx.actor, request=request, guidance=_text(args["guidance"]),
        text=_text(args.get("guidance_text")) or None, surface=ctx.surface, now=ctx.now,
    )  # fmt: skip


def _issues(ctx: TurnContext, request: VisitRequest, args: dict[str, JsonValue]) -> str:
    """The Chief Executive records the issues discussed with the visitor."""
    return service.record_issues(
        ctx.pack, session=ctx.session, actor=ctx.actor, request=request, issues=_text(args["issues"]),
        surface=ctx.surface, now=ctx.now,
    )  # fmt: skip


def _refer(ctx: TurnContext, request: VisitRequest, args: dict[str, JsonValue]) -> str:
    """The Chief Executive puts the request to the Commissioner."""
    return service.refer(
        ctx.pack, session=ctx.session, actor=ctx.actor, request=request, surface=ctx.surface, now=ctx.now
    )


def _approve(ctx: TurnContext, request: VisitRequest, args: dict[str, JsonValue]) -> str:
    """Permission, with the plan agreed for the visit."""
    return service.decide(
        ctx.pack, session=ctx.session, actor=ctx.actor, request=request, approve=True,
        plan=_text(args["plan"]), debrief_wanted=_text(args["debrief_wanted"]) == "yes", reason=None,
        surface=ctx.surface, now=ctx.now,
    )  # fmt: skip


def _decline(ctx: TurnContext, request: VisitRequest, args: dict[str, JsonValue]) -> str:
    """A refusal, with its reason."""
    return service.decide(
        ctx.pack, session=ctx.session, actor=ctx.actor, request=request, approve=False, plan=None,
        debrief_wanted=False, reason=_text(args["reason"]), surface=ctx.surface, now=ctx.now,
    )  # fmt: skip


def _debrief(ctx: TurnContext, request: VisitRequest, args: dict[str, JsonValue]) -> str:
    """The visitor's debrief after the visit."""
    return service.record_debrief(
        ctx.pack, session=ctx.session, actor=ctx.actor, request=request, text=_text(args["debrief_text"]),
        surface=ctx.surface, now=ctx.now,
    )  # fmt: skip


Handler = Callable[[dict[str, JsonValue], "TurnContext"], Outcome]

#: Each effect `dialogs.effects.VISIT_EFFECTS` declares, and what runs it.
VISIT_HANDLERS: dict[str, Handler] = {
    "check_visitor": check_visitor,
    "request_visit": request_visit,
    "list_my_visits": list_my_visits,
    "check_visit_step": _acting(_check),
    "seek_visit_guidance": _acting(_seek),
    "give_visit_guidance": _acting(_guidance),
    "record_visit_issues": _acting(_issues),
    "refer_visit": _acting(_refer),
    "approve_visit": _acting(_approve),
    "decline_visit": _acting(_decline),
    "record_visit_debrief": _acting(_debrief),
}
