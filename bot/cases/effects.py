"""The effects the engine asks for, run against the store inside the turn's transaction.

Each handler reads the effect's arguments, calls store functions and returns an outcome the flow
branches on, with JSON data the pack's renderers show. Handlers decide nothing about wording.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import JsonValue
from sqlalchemy.orm import Session

from bot.reminders.queue import queue, senior_leaders, withdraw_settled
from dialogs.clock import add_months
from dialogs.directory import rank
from dialogs.effects import EFFECTS
from dialogs.plan import FactValue, PlannedPoint, case_facts, plan_for
from dialogs.schema import Pack
from dialogs.types import Effect, EffectResult
from store import cases as case_store
from store.audit import record_access
from store.directory import all_entries
from store.models import Case, Person, PlanPoint
from store.people import ensure_person, find_person

__all__ = ["EffectRunner", "TurnContext", "facts_of", "point_data"]

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

    def audit(self, case: Case, action: str) -> None:
        """Record that the actor did `action` to `case` through this surface."""
        record_access(
            session=self.session,
            person=self.actor,
            case=case,
            surface=self.surface,
            action=action,
            now=self.now,
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _text(value: JsonValue) -> str:
    return str(value) if value is not None else ""


def facts_of(case: Case) -> dict[str, FactValue]:
    """The facts of a stored case, derived by the same rules as at the report (`case_facts`)."""
    return case_facts(
        {
            "victim_role": case.victim_role,
            "kind": case.kind,
            "hate_motivated": "yes" if case.hate_crime else "no",
            "injury_level": case.injury_level,
            "hospitalised": "yes" if case.hospitalised else "no",
            "suspect_arrested": case.suspect_arrested,
            "colleagues_present": [w.person_id for w in case.witnesses],
        }
    )


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
        if created:
            for leader in senior_leaders(session=session, area=case.area):
                queue(
                    self.pack,
                    session=session,
                    kind="slt_new_case",
                    recipient=leader,
                    slot=now,
                    payload={"reference": case.reference},
                    now=now,
                    case_id=case.id,
                    key=f"slt_new_case:{case.id}:{leader.id}",
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
        if result == "done":
            withdraw_settled(session=ctx.session, case_id=case.id)  # reminders about it alone go
            self._repeat(case, point_id, ctx)
        return result, {}

    def _repeat(self, case: Case, point_id: int, ctx: TurnContext) -> None:
        """A recurring point (victim updates) comes round again, at the interval agreed with the victim."""
        point = next(p for p in case.points if p.id == point_id)
        spec = next((s for s in self.pack.plan.points if s.code == point.code), None)
        if spec is None or spec.repeat_every_days is None or case.status != "open":
            return
        days = case.update_interval_days or spec.repeat_every_days
        due = ctx.now + timedelta(days=days)
        case_store.add_points(
            session=ctx.session, case=case, points=[PlannedPoint(spec.code, 0, spec.owner, due, spec.urgent)]
        )

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
        if result == "assigned" and case.consent_contact:
            queue(
                self.pack,
                session=ctx.session,
                kind="victim_io",
                recipient=case.victim,
                slot=ctx.now,
                payload={
                    "reference": case.reference,
                    "io_name": investigator.name,
                    "io_email": investigator.email,
                },
                now=ctx.now,
                case_id=case.id,
                key=f"victim_io:{case.id}:{investigator.id}",
            )
        return result, {"io_name": investigator.name}

    # --- nudges and decisions ---------------------------------------------------------------------

    def snooze_point(self, args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
        """Remind me later: the point's next reminder moves on by the pack's snooze time."""
        case, outcome = self._case(args, ctx)
        if case is None:
            return outcome, {}
        try:
            point_id = int(_text(args["point"]))
        except ValueError:
            return "not_found", {}
        until = ctx.now + timedelta(hours=self.pack.meta.nudges.snooze_hours)
        result = case_store.snooze_point(
            session=ctx.session,
            person=ctx.actor,
            case=case,
            point_id=point_id,
            until=until,
            now=ctx.now,
            surface=ctx.surface,
        )
        return result, {}

    def record_decision(self, args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
        """Record a key decision: it starts the clock to tell the victim and any points it triggers."""
        case, outcome = self._case(args, ctx)
        if case is None:
            return outcome, {}
        decision = _text(args["decision"])
        decided_at = datetime.fromisoformat(_text(args["decided_at"]))
        months = self.pack.meta.nudges.review_window_months
        review_until = (
            add_months(decided_at, months, timezone=self.pack.meta.timezone)
            if decision == "no_further_action"
            else None
        )
        result = case_store.record_decision(
            session=ctx.session,
            person=ctx.actor,
            case=case,
            decision=decision,
            decided_at=decided_at,
            review_until=review_until,
            now=ctx.now,
            surface=ctx.surface,
        )
        if result != "recorded":
            return result, {}
        facts = facts_of(case)
        planned: dict[str, PlannedPoint] = {}
        for trigger in (decision, "key_decision"):
            for point in plan_for(
                self.pack,
                facts,
                trigger=trigger,  # type: ignore[arg-type]
                reported_at=case.reported_at,
                occurred_at=case.occurred_at,
                decided_at=decided_at,
            ):
                planned.setdefault(point.code, point)
        added = case_store.add_points(session=ctx.session, case=case, points=planned.values())
        if case.consent_contact:
            queue(
                self.pack,
                session=ctx.session,
                kind="victim_decision",
                recipient=case.victim,
                slot=decided_at,
                payload={"reference": case.reference, "decision": decision},
                now=ctx.now,
                case_id=case.id,
                key=f"victim_decision:{case.id}:{decision}:{decided_at.isoformat()}",
            )
        return "recorded", {"reference": case.reference, "points": [point_data(p, ctx.actor) for p in added]}

    def set_update_interval(self, args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
        """The update interval agreed with the victim; the next update is rescheduled to match."""
        case, outcome = self._case(args, ctx)
        if case is None:
            return outcome, {}
        days = int(_text(args["days"]))
        result = case_store.set_update_interval(
            session=ctx.session, person=ctx.actor, case=case, days=days, now=ctx.now, surface=ctx.surface
        )
        if result != "set":
            return result, {}
        recurring = [s.code for s in self.pack.plan.points if s.repeat_every_days]
        next_due = None
        for point in case.points:
            if point.code in recurring and point.status == "open":
                last = case_store.last_done(case, point.code) or case.reported_at
                point.due_at = point.remind_at = point.next_nudge_at = last + timedelta(days=days)
                next_due = point.due_at
        return "set", {"days": days, "next_due": _iso(next_due)}

    # --- what happens next ----------------------------------------------------------------------

    def load_my_progress(self, args: dict[str, JsonValue], ctx: TurnContext) -> Outcome:
        """The progress of each case the actor is the victim of (each view audited)."""
        progress: list[JsonValue] = []
        for case in case_store.victim_cases(session=ctx.session, person=ctx.actor)[:5]:
            ctx.audit(case, "view")
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
