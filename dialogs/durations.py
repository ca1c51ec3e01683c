"""Durations told to people, worded from the plan and the pack, never written into a string.

A string says `{due_senior_review}` rather than "14 days", so the sentence follows the plan when a
force changes a clock. The names any string may use:

- `due_<code>`: how long point `<code>` has ("24 hours", "5 working days");
- `due_<code>_<fact>`: the same under a `due_when` variant on `<fact>` (e.g.
  `due_decision_explained_enhanced_rights`);
- `every_<code>`: how often a recurring point comes round ("28 days");
- `snooze`: how long "remind me later" waits; `review_window`: the Victims' Right to Review window;
  `repeat_window`: how recent another case makes a repeat victim.

The units' words ("{n} hours", "{n} working day") are the pack's `duration_*` strings.
"""

from __future__ import annotations

from dialogs.schema import DueRule, Pack, PointSpec

__all__ = ["DURATION_NAMES", "duration_words", "pack_duration", "rule_words"]

#: The names besides `due_…` and `every_…` that a string may use.
DURATION_NAMES = ("snooze", "review_window", "repeat_window")

_UNITS = {
    "hours": ("strings.duration_hour", "strings.duration_hours"),
    "days": ("strings.duration_day", "strings.duration_days"),
    "working_days": ("strings.duration_working_day", "strings.duration_working_days"),
    "months": ("strings.duration_month", "strings.duration_months"),
}


def duration_words(pack: Pack, amount: int, unit: str) -> str:
    """`amount` of `unit` (hours, days, working_days or months) in the pack's words."""
    singular, plural = _UNITS[unit]
    return pack.text(singular if amount == 1 else plural).format(n=amount)


def rule_words(pack: Pack, rule: DueRule) -> str | None:
    """How long a due rule gives, in the pack's words; None for "at the next meeting"."""
    for unit in ("hours", "days", "working_days"):
        amount = getattr(rule, unit)
        if amount is not None:
            return duration_words(pack, amount, unit)
    return None


def _point(pack: Pack, code: str) -> PointSpec | None:
    return next((p for p in pack.plan.points if p.code == code), None)


def _due(pack: Pack, rest: str) -> str | None:
    point = _point(pack, rest)
    if point is not None:
        return rule_words(pack, point.due)
    for point in pack.plan.points:
        fact = rest.removeprefix(f"{point.code}_") if rest.startswith(f"{point.code}_") else None
        variant = next((v for v in point.due_when if fact in v.when), None) if fact else None
        if variant is not None:
            return rule_words(pack, variant.due)
    return None


def pack_duration(pack: Pack, name: str) -> str | None:
    """The words for duration placeholder `name`, or None if it names nothing in this pack."""
    if name == "snooze":
        return duration_words(pack, pack.meta.nudges.snooze_hours, "hours")
    if name == "review_window":
        return duration_words(pack, pack.meta.nudges.review_window_months, "months")
    if name == "repeat_window":
        return duration_words(pack, pack.meta.victims.repeat_window_months, "months")
    if name.startswith("due_"):
        return _due(pack, name.removeprefix("due_"))
    if name.startswith("every_"):
        point = _point(pack, name.removeprefix("every_"))
        if point is not None and point.repeat_every_days:
            return duration_words(pack, point.repeat_every_days, "days")
    return None
