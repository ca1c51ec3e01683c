"""The effects the engine asks for, run against the store inside the turn's transaction.

`HANDLERS` binds each effect declared in `dialogs.effects` to a call of the case service (or a
read for the conversation to show); a handler reads the effect's arguments and returns the outcome
the flow branches on, with JSON data the pack's renderers show. Nothing here decides wording or
the plan's rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import JsonValue
from sqlalchemy.orm import Session

from bot.cases import outreach, service, victim
from bot.cases.answers import ReportAnswers
from bot.visits.effects import VISIT_HANDLERS
from dialogs.associations import role_outcome
from dialogs.effects import EFFECTS
from dialogs.schema import Pack
from dialogs.types import Effect, EffectResult
from store import cases as case_store
from store.audit import record_access
from store.directory import entries_by_key, search_index
from store.models import Case, Person, PlanPoint
from store.people import ensure_person, find_person

__all__ = ["HANDLERS", "EffectRunner", "TurnContext", "point_data"]

Outcome = tuple[str, dict[str, JsonValue]]


@dataclass(frozen=True)
class TurnContext:
    """Who is acting, where, and when: what every effect needs besides its arguments."""

    pack: Pack
    session: Session
    actor: Person
    surface: str
    now: datetime
    instance: str

    def audit(self, case: Case, action: str) -> None:
        """Record that the actor was shown `case` (`action`: view or list) through this surface."""
        record_access(
            session=self.session,
            person=self.actor,
            case=case,
            surface=self.surface,
            action=action,
            purpose="case_view",
            now=self.now,
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _text(value: JsonValue) -> str:
    return str(value) if value is not None else ""


def point_data(
    point: PlanPoint, viewer: Person, evidence: dict[int, dict[str, JsonValue]] | None = None
) -> dict[str, JsonValue]:
    """A plan point as renderers read it (`evidence`: what the bot saw, for points it closed)."""
    return {
        "id": point.id,
        "code": point.code,
        "instance": point.instance,
        "owner": point.owner_role,
        "owner_is_you": point.owner_id == viewer.id,
        "owner_name": point.owner.name if point.owner else None,
        "due": _iso(point.due_at),
        "status": point.status,
        "done_at": _iso(point.done_at),
        "reason": point.na_reason,
        "urgent": point.urgent,
        "by_bot": (evidence or {}).get(point.id),
    }


def _points(ctx: TurnContext, case: Case, points: list[PlanPoint]) -> list[JsonValue]:
    """Points as renderers read them, with the evidence of those the bot closed."""
    evidence: dict[int, dict[str, JsonValue]] = {
        point_id: {"evidence": kind, "name": person.name if person else None}
        for point_id, (kind, person) in service.bot_evidence(session=ctx.session, case=case).items()
    }
    return [point_data(p, ctx.actor, evidence) for p in points]


# --- reporting ----------------------------------------------------------------------------------


def lookup_person(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """Whether the victim's email is someone known, someone new, or the reporter themselves."""
    email = _text(args["email"]).lower()
    if email == ctx.actor.email:
        return "self", {}
    return ("known" if find_person(session=ctx.session, email=email) else "unknown"), {}


def open_case(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """Open the case the report describes, with its plan points, exactly once per report."""
    case, created = service.open_case(
        ctx.pack,
        session=ctx.session,
        answers=ReportAnswers.model_validate(args),
        reporter=ctx.actor,
        submission_key=f"{ctx.surface}:{ctx.instance}",
        surface=ctx.surface,
        now=ctx.now,
    )
    data: dict[str, JsonValue] = {"reference": case.reference, "points": _points(ctx, case, case.points)}
    if not created:
        return "duplicate", data
    repeat = service.repeat_count(session=ctx.session, case=case)
    return ("repeat" if repeat else "opened"), {**data, "previous_cases": repeat}


def association_for_role(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """Whether the victim's role has one staff association, a choice to make, or none (point 9)."""
    return role_outcome(ctx.pack, _text(args["role"])), {}


# --- my cases -----------------------------------------------------------------------------------


def list_my_cases(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """The actor's open cases (reported or investigating), each listing audited."""
    listed: list[JsonValue] = []
    for case in case_store.cases_for(session=ctx.session, person=ctx.actor):
        ctx.audit(case, "list")
        open_points = [p for p in case.points if p.status == "open"]
        listed.append(
            {
                "reference": case.reference,
                "kind": case.kind,
                "occurred_at": _iso(case.occurred_at),
                "relation": case_store.relation(case, ctx.actor),
                "outstanding": len(open_points),
                "next_due": _iso(min((p.due_at for p in open_points), default=None)),
            }
        )
    return ("some" if listed else "none"), {"cases": listed}


def _case(
    args: dict[str, JsonValue],
    ctx: TurnContext,
    allowed: tuple[case_store.Relation, ...] = case_store.WORKERS,
) -> tuple[Case | None, str]:
    return case_store.view_case(
        session=ctx.session, person=ctx.actor, reference=_text(args["case"]), surface=ctx.surface,
        now=ctx.now, allowed=allowed,
    )  # fmt: skip


def _point_id(args: dict[str, JsonValue]) -> int | None:
    try:
        return int(_text(args["point"]))
    except ValueError:
        return None


def show_case(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """A case for someone entitled to see it: every point for those who work it; for its victim,
    their own view of its progress; for a welfare officer, only whose case it is."""
    case, outcome = _case(args, ctx, (*case_store.WORKERS, "victim", "welfare"))
    if case is None:
        return outcome, {}
    shown: dict[str, JsonValue] = {
        "reference": case.reference,
        "kind": case.kind,
        "occurred_at": _iso(case.occurred_at),
        "victim_name": case.victim.name,
        "reads_welfare": case_store.reads_welfare(case, ctx.actor),
    }
    relation = case_store.relation(case, ctx.actor)
    if relation == "victim":
        return "victim", {**shown, "cases": [_progress(ctx, case)]}
    if relation == "welfare":
        return "welfare", shown
    io = {"io_name": case.io.name if case.io else None}
    return "ok", {**shown, **io, "points": _points(ctx, case, case.points)}


def _close(status: Any) -> Callable[[dict[str, JsonValue], TurnContext], Outcome]:
    def close(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
        case, outcome = _case(args, ctx)
        point_id = _point_id(args)
        if case is None or point_id is None:
            return (outcome if case is None else "not_found"), {}
        reason = _text(args.get("reason")) or None
        return service.close_point(
            ctx.pack, session=ctx.session, actor=ctx.actor, case=case, point_id=point_id, status=status,
            reason=reason, surface=ctx.surface, now=ctx.now,
        ), {}  # fmt: skip

    close.__doc__ = f"Close a point as {status}."
    return close


def assign_investigator(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """Make the given colleague the investigating officer, unless that is a conflict of interest."""
    case, outcome = _case(args, ctx)
    if case is None:
        return outcome, {}
    investigator = ensure_person(session=ctx.session, email=_text(args["email"]), now=ctx.now)
    result = service.assign_investigator(
        ctx.pack, session=ctx.session, actor=ctx.actor, case=case, investigator=investigator,
        surface=ctx.surface, now=ctx.now,
    )  # fmt: skip
    return result, {"io_name": investigator.name}


# --- nudges and decisions -----------------------------------------------------------------------


def snooze_point(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """Remind me later: the point's next reminder moves on by the pack's snooze time."""
    case, outcome = _case(args, ctx)
    point_id = _point_id(args)
    if case is None or point_id is None:
        return (outcome if case is None else "not_found"), {}
    return service.snooze_point(
        ctx.pack, session=ctx.session, actor=ctx.actor, case=case, point_id=point_id, surface=ctx.surface,
        now=ctx.now,
    ), {}  # fmt: skip


def record_decision(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """Record a key decision: it starts the clock to tell the victim and any points it triggers."""
    case, outcome = _case(args, ctx)
    if case is None:
        return outcome, {}
    result, added = service.record_decision(
        ctx.pack, session=ctx.session, actor=ctx.actor, case=case, decision=_text(args["decision"]),
        decided_at=datetime.fromisoformat(_text(args["decided_at"])), surface=ctx.surface, now=ctx.now,
    )  # fmt: skip
    if result != "recorded":
        return result, {}
    return "recorded", {"reference": case.reference, "points": _points(ctx, case, added)}


def record_consent(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """The victim now agrees to hear from the bot: recorded, and the leaflet sent (point 10)."""
    case, outcome = _case(args, ctx)
    if case is None:
        return outcome, {}
    return outreach.record_consent(
        ctx.pack, session=ctx.session, actor=ctx.actor, case=case, surface=ctx.surface, now=ctx.now
    ), {}  # fmt: skip


def set_update_interval(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """The update interval agreed with the victim, or chosen by them; the next update is rescheduled."""
    case, outcome = _case(args, ctx, (*case_store.WORKERS, "victim"))
    if case is None:
        return outcome, {}
    days = _interval_days(ctx.pack, args["days"])
    result, next_due = service.set_update_interval(
        ctx.pack, session=ctx.session, actor=ctx.actor, case=case, days=days, surface=ctx.surface, now=ctx.now
    )
    return result, ({"days": days, "next_due": _iso(next_due)} if result == "set" else {})


def _interval_days(pack: Pack, value: JsonValue) -> int:
    """Days between updates: a number, a named choice of the pack, or `default` for its own interval."""
    named = pack.meta.victims.update_choices
    if isinstance(value, str) and value in named:
        return named[value]
    if value == "default":
        return next(s.repeat_every_days for s in pack.plan.points if s.updates_victim and s.repeat_every_days)
    return int(_text(value))


def record_hospital_admission(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """The victim was admitted to hospital after the report: the points that follow, and the FIM told."""
    case, outcome = _case(args, ctx)
    if case is None:
        return outcome, {}
    result, added = service.record_hospital_admission(
        ctx.pack, session=ctx.session, actor=ctx.actor, case=case, surface=ctx.surface, now=ctx.now
    )
    return result, {"reference": case.reference, "points": _points(ctx, case, added)}


# --- the victim's own path ----------------------------------------------------------------------


def tell_supervisor(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """A colleague who was assaulted asks the bot to tell their supervisor (never themselves)."""
    email = _text(args["email"]).lower()
    if email == ctx.actor.email:
        return "self", {}
    supervisor = ensure_person(session=ctx.session, email=email, now=ctx.now)
    every = args.get("update_every")
    days = _interval_days(ctx.pack, every) if every not in (None, "") else None
    victim.tell_supervisor(
        ctx.pack, session=ctx.session, victim=ctx.actor, supervisor=supervisor, update_interval_days=days,
        now=ctx.now,
    )  # fmt: skip
    return "told", {"supervisor_name": supervisor.name}


def read_welfare(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """The case's welfare record, for its victim, its reporting supervisor or a welfare officer."""
    case = case_store.find_seen_case(
        session=ctx.session, person=ctx.actor, reference=_text(args["case"]), surface=ctx.surface, now=ctx.now
    )
    if case is None:
        return "not_found", {}
    record = victim.read_welfare(
        session=ctx.session, reader=ctx.actor, case=case, surface=ctx.surface, now=ctx.now
    )
    if isinstance(record, str):
        return record, {}
    return "shown", {
        "reference": case.reference,
        "how": record.how_they_are,
        "support": record.support_needed,
        "handover": record.duties_handover,
    }


# --- what happens next --------------------------------------------------------------------------


def load_my_progress(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """The progress of each case the actor is the victim of (each view audited)."""
    progress: list[JsonValue] = []
    for case in case_store.victim_cases(session=ctx.session, person=ctx.actor)[:5]:
        ctx.audit(case, "view")
        progress.append(_progress(ctx, case))
    return ("victim" if progress else "none"), {"cases": progress}


def _progress(ctx: TurnContext, case: Case) -> dict[str, JsonValue]:
    """A case as its victim sees it: their officer, what is done, the next update owed.

    When the pack keeps a decision's detail from the victim (`decision_detail_to_victim`), nothing
    here shows which decision was made: no point a particular decision started, no review window.
    """
    detail = ctx.pack.meta.nudges.decision_detail_to_victim
    told = {s.code for s in ctx.pack.plan.points if detail or set(s.triggers) <= {"report", "key_decision"}}
    updates_victim = {s.code for s in ctx.pack.plan.points if s.updates_victim}
    points = [p for p in case.points if p.code in told]
    done = [p for p in points if p.status == "done"]
    updates = [p.due_at for p in points if p.status == "open" and p.code in updates_victim]
    return {
        "reference": case.reference,
        "io_name": case.io.name if case.io else None,
        "io_email": case.io.email if case.io else None,
        "done": len(done),
        "total": len(points),
        "done_codes": [code for code in sorted({p.code for p in done})],
        "next_update_due": _iso(min(updates, default=None)),
        "update_interval_days": case.update_interval_days,
        "review_until": _iso(case.review_until) if detail else None,
    }


# --- directory ----------------------------------------------------------------------------------


def search_directory(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """A page of directory entries matching the query, best first."""
    query = _text(args["query"])
    page = args.get("page")
    page = page if isinstance(page, int) and page >= 0 else 0
    categories = {c.id: [c.label, *c.synonyms] for c in ctx.pack.directory.categories}
    size = ctx.pack.meta.directory_page_size
    # One more than the page shows, to know whether there is a next page.
    index = search_index(session=ctx.session, categories=categories)
    ranked = index.search(query, limit=(page + 1) * size + 1)
    shown = ranked[page * size : (page + 1) * size]
    if not shown:
        return "none", {"query": query, "entries": []}
    entries = entries_by_key(session=ctx.session, keys=[r.key for r in shown])
    data: dict[str, JsonValue] = {"query": query, "entries": [_entry_data(entries[r.key]) for r in shown]}
    return ("found" if len(ranked) > (page + 1) * size else "last"), data


def _entry_data(entry: Any) -> dict[str, JsonValue]:
    return {
        "key": entry.key,
        "name": entry.name,
        "description": entry.description,
        "phone": entry.phone,
        "email": entry.email,
        "web": entry.web,
        "hours": entry.hours,
        "for_whom": entry.for_whom,
        "flags": dict(entry.flags or {}),
    }


Handler = Callable[[dict[str, JsonValue], TurnContext], Outcome]


#: Each effect `dialogs.effects.EFFECTS` declares, and what runs it.
def report_figures(args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
    """The SLT's and the SPOC's figures (`bot.reports.chat`); anyone else is refused."""
    from bot.reports.chat import report_figures as figures

    return figures(args, ctx)


HANDLERS: dict[str, Handler] = {
    "lookup_person": lookup_person,
    "association_for_role": association_for_role,
    "record_consent": record_consent,
    "open_case": open_case,
    "list_my_cases": list_my_cases,
    "show_case": show_case,
    "mark_point_done": _close("done"),
    "mark_point_not_applicable": _close("not_applicable"),
    "assign_investigator": assign_investigator,
    "load_my_progress": load_my_progress,
    "snooze_point": snooze_point,
    "record_decision": record_decision,
    "set_update_interval": set_update_interval,
    "record_hospital_admission": record_hospital_admission,
    "tell_supervisor": tell_supervisor,
    "read_welfare": read_welfare,
    "search_directory": search_directory,
    "report_figures": report_figures,
    **VISIT_HANDLERS,
}


class EffectRunner:
    """Runs effects by name through `HANDLERS` (only effects `dialogs.effects` declares)."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack

    def handler(self, name: str) -> Handler:
        """What runs effect `name`."""
        if name not in EFFECTS:
            raise KeyError(f"undeclared effect {name!r}")
        return HANDLERS[name]

    def run(
        self, effect: Effect, *, session: Session, actor: Person, surface: str, now: datetime
    ) -> EffectResult:
        """Run `effect` for `actor` and report its outcome."""
        context = TurnContext(self.pack, session, actor, surface, now, effect.instance)
        outcome, data = self.handler(effect.name)(dict(effect.args), context)
        return EffectResult(effect=effect.name, outcome=outcome, data=data)
