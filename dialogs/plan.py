"""From a report's answers to the case's facts, and from the facts to its plan points.

The pack says which points exist and when they apply (`when:` maps facts to values, all of which
must match); this module derives the facts and computes due times. It is pure: the caller passes
the times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import JsonValue

from dialogs.clock import due_at
from dialogs.schema import Condition, DueRule, Pack, PointSpec, Trigger

__all__ = [
    "CASE_FACTS",
    "EVIDENCE_EVENTS",
    "IO_ASSIGNED",
    "PlannedPoint",
    "applies",
    "case_facts",
    "plan_for",
    "point_due",
]

FactValue = str | bool | int

#: Facts a pack's conditions may test, with the values each can take.
CASE_FACTS: dict[str, tuple[FactValue, ...]] = {
    "victim_role": ("officer", "staff", "special_constable", "volunteer"),
    "kind": ("physical_assault", "spitting", "verbal_abuse", "hate_crime"),
    "hate_crime": (True, False),
    "enhanced_rights": (True, False),
    "hospitalised": (True, False),
    "injured": (True, False),
    "suspect_arrested": ("yes", "no", "unknown"),
    "colleagues_present": (True, False),
    "has_association": (True, False),
}

#: The case's investigating officer was assigned through the bot.
IO_ASSIGNED = "investigator_assigned"
#: What the bot records on a case that a point's `completed_by: {event: …}` may name.
EVIDENCE_EVENTS = (IO_ASSIGNED,)


def case_facts(answers: Mapping[str, JsonValue]) -> dict[str, FactValue]:
    """Derive the facts plan conditions test from the report's answers.

    A hate crime is either reported as one or another kind of incident motivated by hostility;
    under the Victims' Code a hate crime gives the victim enhanced rights (1-working-day clocks).
    """
    kind = str(answers.get("kind", ""))
    hate_crime = kind == "hate_crime" or answers.get("hate_motivated") == "yes"
    injury = str(answers.get("injury_level", "none"))
    return {
        "victim_role": str(answers.get("victim_role", "")),
        "kind": kind,
        "hate_crime": hate_crime,
        "enhanced_rights": hate_crime,
        "hospitalised": answers.get("hospitalised") == "yes",
        "injured": injury not in ("none", ""),
        "suspect_arrested": str(answers.get("suspect_arrested", "unknown")),
        "colleagues_present": bool(answers.get("colleagues_present")),
        # False when the reporter said the colleague belongs to none of their role's associations.
        "has_association": answers.get("association") != "none",
    }


def applies(condition: Condition, facts: Mapping[str, FactValue]) -> bool:
    """Whether every fact named in `condition` has the value (or one of the values) given."""
    for name, wanted in condition.items():
        allowed = wanted if isinstance(wanted, list) else [wanted]
        if facts.get(name) not in allowed:
            return False
    return True


@dataclass(frozen=True)
class PlannedPoint:
    """A plan point to create: which spec, which instance (follow-ups count up), when due."""

    code: str
    instance: int
    owner: str
    due_at: datetime
    urgent: bool


def point_due(spec: PointSpec, pack: Pack, facts: Mapping[str, FactValue], *, start: datetime) -> datetime:
    """When `spec` falls due for a case with `facts`, counted from `start`."""
    rule: DueRule = next((v.due for v in spec.due_when if applies(v.when, facts)), spec.due)
    return _due(rule, pack, start)


def _due(rule: DueRule, pack: Pack, start: datetime) -> datetime:
    return due_at(
        rule,
        start=start,
        timezone=pack.meta.timezone,
        calendar=pack.meta.bank_holidays,
        meetings=pack.meta.meetings,
    )


def plan_for(
    pack: Pack,
    facts: Mapping[str, FactValue],
    *,
    trigger: Trigger,
    reported_at: datetime,
    occurred_at: datetime,
    decided_at: datetime | None = None,
) -> list[PlannedPoint]:
    """The points that `trigger` starts for a case with `facts`, with their due times.

    Each point's clock runs from the moment its rule names (`after: reported|occurred|decision`).
    Follow-ups (e.g. welfare contact at 72 hours and 28 days) are further instances of the point.
    """
    starts = {"reported": reported_at, "occurred": occurred_at, "decision": decided_at or reported_at}
    planned: list[PlannedPoint] = []
    for spec in pack.plan.points:
        if trigger not in spec.triggers or not applies(spec.when, facts):
            continue
        rule = next((v.due for v in spec.due_when if applies(v.when, facts)), spec.due)
        planned.append(
            PlannedPoint(spec.code, 1, spec.owner, _due(rule, pack, starts[rule.after]), spec.urgent)
        )
        for number, follow_up in enumerate(spec.follow_ups, start=2):
            due = _due(follow_up, pack, starts[follow_up.after])
            planned.append(PlannedPoint(spec.code, number, spec.owner, due, spec.urgent))
    return sorted(planned, key=lambda p: (p.due_at, p.code, p.instance))
