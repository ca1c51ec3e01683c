"""The effects the engine asks for, run against the store inside the turn's transaction.

Each handler reads the effect's arguments, calls store functions and returns an outcome the flow
branches on, with JSON data the pack's renderers show. Handlers decide nothing about wording.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import JsonValue
from sqlalchemy.orm import Session

from dialogs.directory import rank
from dialogs.effects import EFFECTS
from dialogs.plan import case_facts, plan_for
from dialogs.schema import Pack
from dialogs.types import Effect, EffectResult
from store import cases as case_store
from store.audit import record_access
from store.directory import all_entries
from store.models import Case, Person, PlanPoint
from store.people import ensure_person, find_person

__all__ = ["EffectRunner", "TurnContext", "point_data"]

#: Codes of the points that owe the victim an update (shown as "next update due").
_UPDATE_CODES = ("victim_updated", "decision_explained")

Outcome = tuple[str, dict[str, JsonValue]]


@dataclass(frozen=True)
class TurnContext:
    """Who is acting, where, and when: what every effect needs besides its arguments."""

    session: Session
    actor: Person
    surface: str
    now: datetime
    instance: str


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _text(value: JsonValue) -> str:
    return str(value) if value is not None else ""


def point_data(point: PlanPoint, viewer: Person) -> dict[str, JsonValue]:
    """A plan point as renderers read it."""
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
    }


class EffectRunner:
    """Runs effects by name: each effect declared in `dialogs.effects` is the method of that name."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack

    def handler(self, name: str) -> Callable[[dict[str, JsonValue], TurnContext], Outcome]:
        """The method that runs effect `name` (only declared effects are callable)."""
        if name not in EFFECTS:
            raise KeyError(f"undeclared effect {name!r}")
        handler: Callable[[dict[str, JsonValue], TurnContext], Outcome] = getattr(self, name)
        return handler

    def run(
        self, effect: Effect, *, session: Session, actor: Person, surface: str, now: datetime
    ) -> EffectResult:
        """Run `effect` for `actor` and report its outcome."""
        context = TurnContext(session, actor, surface, now, effect.instance)
        outcome, data = self.handler(effect.name)(dict(effect.args), context)
        return EffectResult(effect=effect.name, outcome=outcome, data=data)

    # --- reporting ----------------------------------------------------------------------------

    def lookup_person(self, args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
        """Whether the victim's email is someone known, someone new, or the reporter themselves."""
        email = _text(args["email"]).lower()
        if email == ctx.actor.email:
            return "self", {}
        return ("known" if find_person(session=ctx.session, email=email) else "unknown"), {}

    def open_case(self, args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
        """Open the case the report describes, with its plan points, exactly once per report."""
        facts = case_facts(args)
        occurred_at = datetime.fromisoformat(_text(args["occurred_at"]))
        draft = case_store.CaseDraft(
            victim_email=_text(args["victim_email"]),
            victim_role=_text(args["victim_role"]),
            occurred_at=occurred_at,
            location=_text(args["location"]),
            area=_text(args["area"]),
            kind=_text(args["kind"]),
            hate_crime=bool(facts["hate_crime"]),
            hate_strand=_text(args.get("hate_strand")) if facts["hate_crime"] else None,
            enhanced_rights=bool(facts["enhanced_rights"]),
            injury_level=_text(args["injury_level"]),
            injury_detail=_text(args.get("injury_detail")) or None,
            medical_care=_text(args.get("medical_care")) or None,
            hospitalised=bool(facts["hospitalised"]),
            suspect_arrested=_text(args["suspect_arrested"]),
            crime_reference=_text(args.get("crime_reference")) or None,
            colleagues_present=[str(e) for e in args.get("colleagues_present") or []],  # type: ignore[union-attr]
            consent_contact=args.get("consent_contact") == "yes",
            welfare_how=_text(args["welfare_how"]),
            welfare_support=_text(args["welfare_support"]),
            welfare_handover=_text(args["welfare_handover"]),
        )
        session, now = ctx.session, ctx.now
        victim = ensure_person(session=session, email=draft.victim_email, now=now)
        witnesses = [ensure_person(session=session, email=e, now=now) for e in draft.colleagues_present]
        planned = plan_for(self.pack, facts, trigger="report", reported_at=now, occurred_at=occurred_at)
        case, created = case_store.open_case(
            session=session,
            draft=draft,
            reporter=ctx.actor,
            victim=victim,
            witnesses=witnesses,
            points=planned,
            submission_key=f"{ctx.surface}:{ctx.instance}",
            surface=ctx.surface,
            now=now,
        )
        data: dict[str, JsonValue] = {
            "reference": case.reference,
            "points": [point_data(p, ctx.actor) for p in case.points],
        }
        return ("opened" if created else "duplicate"), data

    # --- my cases -----------------------------------------------------------------------------

    def list_my_cases(self, args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
        """The actor's open cases (reported or investigating), each listing audited."""
        cases = case_store.cases_for(session=ctx.session, person=ctx.actor)
        listed: list[JsonValue] = []
        for case in cases:
            record_access(
                session=ctx.session,
                person=ctx.actor,
                case=case,
                surface=ctx.surface,
                action="list",
                now=ctx.now,
            )
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

    def _case(self, args: dict[str, JsonValue], ctx: TurnContext) -> tuple[Case | None, str]:
        return case_store.view_case(
            session=ctx.session,
            person=ctx.actor,
            reference=_text(args["case"]),
            surface=ctx.surface,
            now=ctx.now,
        )

    def show_case(self, args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
        """A case with its people and every point, for its reporter or investigating officer."""
        case, outcome = self._case(args, ctx)
        if case is None:
            return outcome, {}
        return "ok", {
            "reference": case.reference,
            "kind": case.kind,
            "occurred_at": _iso(case.occurred_at),
            "victim_name": case.victim.name,
            "io_name": case.io.name if case.io else None,
            "points": [point_data(p, ctx.actor) for p in case.points],
        }

    def _mark(self, args: dict[str, JsonValue], ctx: TurnContext, status: str) -> Outcome:
        case, outcome = self._case(args, ctx)
        if case is None:
            return outcome, {}
        try:
            point_id = int(_text(args["point"]))
        except ValueError:
            return "not_found", {}
        result = case_store.mark_point(
            session=ctx.session,
            person=ctx.actor,
            case=case,
            point_id=point_id,
            status="done" if status == "done" else "not_applicable",
            now=ctx.now,
            surface=ctx.surface,
            reason=_text(args.get("reason")) or None,
        )
        return result, {}

    def mark_point_done(self, args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
        """Close a point as done."""
        return self._mark(args, ctx, "done")

    def mark_point_not_applicable(self, args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
        """Close a point as not applicable, with the reason given."""
        return self._mark(args, ctx, "not_applicable")

    def assign_investigator(self, args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
        """Make the given colleague the investigating officer, unless that is a conflict of interest."""
        case, outcome = self._case(args, ctx)
        if case is None:
            return outcome, {}
        investigator = ensure_person(session=ctx.session, email=_text(args["email"]), now=ctx.now)
        result = case_store.assign_investigator(
            session=ctx.session,
            actor=ctx.actor,
            case=case,
            investigator=investigator,
            now=ctx.now,
            surface=ctx.surface,
        )
        return result, {"io_name": investigator.name}

    # --- what happens next ----------------------------------------------------------------------

    def load_my_progress(self, args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
        """The progress of each case the actor is the victim of (each view audited)."""
        progress: list[JsonValue] = []
        for case in case_store.victim_cases(session=ctx.session, person=ctx.actor)[:5]:
            record_access(
                session=ctx.session,
                person=ctx.actor,
                case=case,
                surface=ctx.surface,
                action="view",
                now=ctx.now,
            )
            done = [p for p in case.points if p.status == "done"]
            updates = [p.due_at for p in case.points if p.status == "open" and p.code in _UPDATE_CODES]
            progress.append(
                {
                    "reference": case.reference,
                    "io_name": case.io.name if case.io else None,
                    "io_email": case.io.email if case.io else None,
                    "done": len(done),
                    "total": len(case.points),
                    "done_codes": [code for code in sorted({p.code for p in done})],
                    "next_update_due": _iso(min(updates, default=None)),
                    "review_until": _iso(case.review_until),
                }
            )
        return ("victim" if progress else "none"), {"cases": progress}

    # --- directory ------------------------------------------------------------------------------

    def search_directory(self, args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
        """A page of directory entries matching the query, best first."""
        query = _text(args["query"])
        page = args.get("page")
        page = page if isinstance(page, int) and page >= 0 else 0
        entries = {e.key: e for e in all_entries(session=ctx.session)}
        categories = {c.id: [c.label, *c.synonyms] for c in self.pack.directory.categories}
        ranked = rank(query, entries.values(), categories)
        size = self.pack.meta.directory_page_size
        shown = ranked[page * size : (page + 1) * size]
        if not shown:
            return "none", {"query": query, "entries": []}
        data: dict[str, JsonValue] = {
            "query": query,
            "entries": [_entry_data(entries[r.key]) for r in shown],
        }
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
