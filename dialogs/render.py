"""Named renderers (`show:`) and choice providers (`choices_from:`).

Renderers turn the data an effect returned into facts worded by the pack's strings; providers
turn it into choices. Both are pure. The shapes they read are those the router's effects return
(see `bot.cases.effects`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import JsonValue

from dialogs.clock import on_working_day
from dialogs.dates import day_text, when_text
from dialogs.durations import duration_words, pack_duration
from dialogs.plan import case_facts
from dialogs.schema import Pack
from dialogs.types import Chart, Choice, DialogState, Fact

__all__ = [
    "CHARTS",
    "CHOICES_FROM",
    "RENDERERS",
    "directory_facts",
    "figures_chart",
    "figures_facts",
    "fill",
    "point_fact",
    "point_title",
]

Renderer = Callable[[Pack, DialogState, datetime], list[Fact]]
Provider = Callable[[Pack, DialogState], list[Choice]]
Charter = Callable[[Pack, DialogState], Chart | None]


class _Values(dict[str, Any]):
    """The values given, then the plan's durations (looked up only when a string uses one)."""

    def __init__(self, pack: Pack, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.pack = pack

    def __missing__(self, key: str) -> str:
        return pack_duration(self.pack, key) or ""


def fill(pack: Pack, key: str, **values: Any) -> str:
    """The text of string `key` with `{placeholders}` filled; unknown placeholders become empty.

    Besides `values`, a string may name a duration of the plan (see `dialogs.durations`).
    """
    return pack.text(key).format_map(_Values(pack, values))


def _label(pack: Pack, prefix: str, value: object) -> str:
    return pack.strings.get(f"{prefix}_{value}", str(value))


def point_title(pack: Pack, code: str, instance: object = 1) -> str:
    """The title of plan point `code` (the code itself if the pack no longer has it).

    Follow-ups (instance 2 and later) say which follow-up they are.
    """
    title = next((p.title for p in pack.plan.points if p.code == code), code)
    if isinstance(instance, int) and instance > 1:
        return fill(pack, "strings.point_follow_up", title=title, number=instance - 1)
    return title


def _items(state: DialogState, effect: str, key: str) -> list[Mapping[str, JsonValue]]:
    value = state.results.get(effect, {}).get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _owner(pack: Pack, point: Mapping[str, JsonValue]) -> str:
    if point.get("owner_is_you"):
        return pack.text("strings.owner_you")
    name = point.get("owner_name")
    return str(name) if name else _label(pack, "owner", point.get("owner"))


def point_fact(pack: Pack, point: Mapping[str, JsonValue], now: datetime) -> Fact:
    """A plan point (as `bot.cases.effects.point_data` gives it) as a fact: title, owner, due time."""
    title = point_title(pack, str(point.get("code")), point.get("instance"))
    status = point.get("status", "open")
    by_bot = point.get("by_bot")
    if status == "done" and isinstance(by_bot, dict) and f"evidence_{by_bot.get('evidence')}" in pack.strings:
        evidence = fill(pack, f"strings.evidence_{by_bot.get('evidence')}", name=by_bot.get("name") or "")
        value = fill(
            pack, "strings.point_bot_done_line", when=when_text(pack, point.get("done_at")), evidence=evidence
        )
    elif status == "done":
        value = fill(pack, "strings.point_done_line", when=when_text(pack, point.get("done_at")))
    elif status == "not_applicable":
        value = fill(pack, "strings.point_na_line", reason=point.get("reason") or "")
    else:
        due = str(point.get("due", ""))
        overdue = bool(due) and datetime.fromisoformat(due) < now
        key = "strings.point_overdue_line" if overdue else "strings.point_due_line"
        value = fill(pack, key, owner=_owner(pack, point), due=when_text(pack, due))
        if point.get("urgent"):
            value = fill(pack, "strings.point_urgent", line=value)
    return Fact(label=title, value=value)


def case_opened(pack: Pack, state: DialogState, now: datetime) -> list[Fact]:
    """The plan points of the case just opened, with owner and due time."""
    return [point_fact(pack, p, now) for p in _items(state, "open_case", "points")]


def decision_points(pack: Pack, state: DialogState, now: datetime) -> list[Fact]:
    """The plan points a decision just recorded has started."""
    return [point_fact(pack, p, now) for p in _items(state, "record_decision", "points")]


def signposts(pack: Pack, state: DialogState, now: datetime) -> list[Fact]:
    """The staff networks a hate crime's strand points to, with their contacts."""
    strand = state.answers.get("hate_strand")
    if not case_facts(state.answers)["hate_crime"] or not isinstance(strand, str):
        return []
    return directory_facts(pack, pack.meta.signposts.get(strand, []))


def directory_facts(pack: Pack, keys: list[str]) -> list[Fact]:
    """The pack's directory entries `keys`, in directory order, each with its contact details."""
    entries = [e for e in pack.directory.entries if e.key in keys]
    return [Fact(label=e.name, value=_contact_lines(pack, e.model_dump())) for e in entries]


_CONTACT_KEYS = {
    "phone": "strings.contact_phone",
    "email": "strings.contact_email",
    "web": "strings.contact_web",
    "hours": "strings.contact_hours",
}


def _contact_lines(pack: Pack, entry: Mapping[str, Any]) -> str:
    flags: Mapping[str, str] = entry.get("flags") or {}
    lines = []
    for field in ("phone", "email", "web", "hours"):
        value = entry.get(field)
        if not value:
            continue
        if field in flags:
            text = fill(pack, "strings.contact_unverified", value=value, reason=flags[field])
        else:
            text = str(value)
        lines.append(fill(pack, _CONTACT_KEYS[field], value=text))
    return "\n".join(lines)


def directory_results(pack: Pack, state: DialogState, now: datetime) -> list[Fact]:
    """The directory entries found, each with its contact details and who it is for."""
    facts = []
    for entry in _items(state, "search_directory", "entries"):
        lines = [str(entry.get("description", ""))]
        if entry.get("for_whom"):
            lines.append(fill(pack, "strings.contact_for_whom", value=entry["for_whom"]))
        lines.append(_contact_lines(pack, entry))
        facts.append(Fact(label=str(entry.get("name")), value="\n".join(line for line in lines if line)))
    return facts


def my_cases(pack: Pack, state: DialogState, now: datetime) -> list[Fact]:
    """One line per case: kind, when it happened, how many points are outstanding."""
    facts = []
    for case in _items(state, "list_my_cases", "cases"):
        facts.append(
            Fact(
                label=str(case.get("reference")),
                value=fill(
                    pack,
                    "strings.my_cases_line",
                    kind=_label(pack, "kind", case.get("kind")),
                    occurred=when_text(pack, case.get("occurred_at")),
                    outstanding=case.get("outstanding", 0),
                    next_due=when_text(pack, case.get("next_due")) or "-",
                    role=_label(pack, "relation", case.get("relation")),
                ),
            )
        )
    return facts


def case_detail(pack: Pack, state: DialogState, now: datetime) -> list[Fact]:
    """A case as its supervisor or investigating officer sees it: people, status and every point."""
    case = state.results.get("show_case", {})
    if not case.get("reference"):
        return []
    io = case.get("io_name") or pack.text("strings.io_not_assigned")
    facts = [
        Fact(label=pack.text("strings.label_reference"), value=str(case.get("reference"))),
        Fact(label=pack.text("strings.label_victim"), value=str(case.get("victim_name", ""))),
        Fact(label=pack.text("strings.label_io"), value=str(io)),
        Fact(label=pack.text("strings.label_kind"), value=_label(pack, "kind", case.get("kind"))),
        Fact(label=pack.text("strings.label_occurred_at"), value=when_text(pack, case.get("occurred_at"))),
    ]
    facts += [point_fact(pack, p, now) for p in _items(state, "show_case", "points")]
    return facts


def _victim_when(pack: Pack, value: JsonValue, *, deadline: bool = False) -> str:
    """A date told to a victim: never a weekend day or a bank holiday.

    What is owed to them moves to the next working day; a `deadline` they must meet moves to the
    working day before, so they are never told they have longer than they do.
    """
    if not isinstance(value, str) or not value:
        return ""
    moment = on_working_day(
        datetime.fromisoformat(value),
        timezone=pack.meta.timezone,
        calendar=pack.meta.bank_holidays,
        earlier=deadline,
    )
    return when_text(pack, moment.isoformat())


def _progress_fact(pack: Pack, case: Mapping[str, JsonValue]) -> Fact:
    """One case as its victim sees it (`bot.cases.effects._progress`)."""
    lines = []
    if case.get("io_name"):
        lines.append(fill(pack, "strings.progress_io", name=case["io_name"], email=case.get("io_email")))
    else:
        lines.append(pack.text("strings.progress_io_pending"))
    lines.append(fill(pack, "strings.progress_done", done=case.get("done", 0), total=case.get("total", 0)))
    codes = case.get("done_codes")
    for code in codes if isinstance(codes, list) else []:
        lines.append(fill(pack, "strings.progress_done_item", title=point_title(pack, str(code))))
    if case.get("next_update_due"):
        due = _victim_when(pack, case["next_update_due"])
        lines.append(fill(pack, "strings.progress_next_update", due=due))
    if case.get("review_until"):
        lines.append(
            fill(
                pack,
                "strings.progress_review_until",
                until=_victim_when(pack, case["review_until"], deadline=True),
            )
        )
    return Fact(label=str(case.get("reference")), value="\n".join(lines))


def victim_progress(pack: Pack, state: DialogState, now: datetime) -> list[Fact]:
    """For each case the person is the victim of: their officer, what is done, the next update owed."""
    return [_progress_fact(pack, case) for case in _items(state, "load_my_progress", "cases")]


def victim_case(pack: Pack, state: DialogState, now: datetime) -> list[Fact]:
    """The case the victim picked from "my cases", as its victim sees it."""
    return [_progress_fact(pack, case) for case in _items(state, "show_case", "cases")]


def welfare_record(pack: Pack, state: DialogState, now: datetime) -> list[Fact]:
    """The welfare answers of a case, for someone entitled to read them."""
    record = state.results.get("read_welfare", {})
    if not record.get("reference"):
        return []
    return [
        Fact(label=pack.text(f"strings.label_welfare_{key}"), value=str(record.get(key) or ""))
        for key in ("how", "support", "handover")
    ]


def hospital_points(pack: Pack, state: DialogState, now: datetime) -> list[Fact]:
    """The plan points a hospital admission learnt after the report has started."""
    return [point_fact(pack, p, now) for p in _items(state, "record_hospital_admission", "points")]


def victim_support(pack: Pack, state: DialogState, now: datetime) -> list[Fact]:
    """The support a colleague who says they were assaulted is pointed to at once (pack.yaml)."""
    keys = pack.meta.victims.support
    entries = sorted((e for e in pack.directory.entries if e.key in keys), key=lambda e: keys.index(e.key))
    return [Fact(label=e.name, value=_contact_lines(pack, e.model_dump())) for e in entries]


def next_update(pack: Pack, state: DialogState, now: datetime) -> list[Fact]:
    """When the victim's next update is due, after they chose how often (a working day)."""
    due = state.results.get("set_update_interval", {}).get("next_due")
    if not isinstance(due, str):
        return []
    return [Fact(label=pack.text("strings.label_next_update"), value=_victim_when(pack, due))]


def update_choices(pack: Pack, state: DialogState) -> list[Choice]:
    """How often a victim may choose to hear about progress: the pack's named intervals, then its own."""
    named = [
        Choice(value=name, label=fill(pack, "strings.update_every", every=duration_words(pack, days, "days")))
        for name, days in pack.meta.victims.update_choices.items()
    ]
    return [*named, Choice(value="default", label=pack.text("strings.update_default"))]


def welfare_choice(pack: Pack, state: DialogState) -> list[Choice]:
    """Reading the welfare record, offered only to those who may (the case shown says so)."""
    if state.results.get("show_case", {}).get("reads_welfare") is not True:
        return []
    return [Choice(value="welfare", label=pack.text("strings.choice_welfare_record"))]


def my_visits(pack: Pack, state: DialogState, now: datetime) -> list[Fact]:
    """The OPCC visit requests the person made: where each stands, and the day proposed."""
    return [
        Fact(
            label=str(visit.get("reference")),
            value=fill(
                pack,
                "strings.my_visit_line",
                status=_label(pack, "visit_status", visit.get("status")),
                day=day_text(pack, visit.get("proposed_on")),
            ),
        )
        for visit in _items(state, "list_my_visits", "visits")
    ]


def my_case_choices(pack: Pack, state: DialogState) -> list[Choice]:
    """One choice per case in the list."""
    return [
        Choice(value=str(c["reference"]), label=str(c["reference"]))
        for c in _items(state, "list_my_cases", "cases")
    ]


def association_choices(pack: Pack, state: DialogState) -> list[Choice]:
    """The staff associations of the victim's role (pack.yaml `associations`), and "none of these"."""
    rules = pack.meta.associations
    rule = rules.by_role.get(str(state.answers.get("victim_role"))) if rules else None
    if rules is None or rule is None:
        return []
    names = {e.key: e.name for e in pack.directory.entries}
    choices = [Choice(value=key, label=names.get(rules.bodies[key].directory, key)) for key in rule.bodies]
    return [*choices, Choice(value="none", label=pack.text("strings.association_none"))]


def outstanding_point_choices(pack: Pack, state: DialogState) -> list[Choice]:
    """One choice per outstanding point of the case shown."""
    return [
        Choice(value=str(p["id"]), label=point_title(pack, str(p.get("code")), p.get("instance")))
        for p in _items(state, "show_case", "points")
        if p.get("status", "open") == "open"
    ]


def figures_facts(data: Mapping[str, Any]) -> list[Fact]:
    """Headline figures (a chat report's, the weekly summary's) as facts, as they were worded."""
    headline = data.get("headline") or []
    return [
        Fact(label=str(item["label"]), value=str(item["value"]))
        for item in headline
        if isinstance(item, dict)
    ]


def figures_chart(pack: Pack, data: Mapping[str, Any]) -> Chart | None:
    """Cases by month with the trend, from figures' data (None when there are no months)."""
    months = [str(m) for m in data.get("months") or []]
    if not months:
        return None
    return Chart(
        title=pack.text("strings.report_chat_chart"),
        labels=tuple(months),
        values=tuple(float(v) for v in data.get("counts") or []),
        value_name=pack.text("strings.report_col_cases"),
        trend=tuple(float(v) for v in data.get("trend") or []),
        trend_name=pack.text("strings.report_col_trend"),
    )


def report_figures(pack: Pack, state: DialogState, now: datetime) -> list[Fact]:
    """The headline figures of a report asked for in chat."""
    return figures_facts(state.results.get("report_figures", {}))


def report_trend(pack: Pack, state: DialogState) -> Chart | None:
    """The chart of a report asked for in chat."""
    return figures_chart(pack, state.results.get("report_figures", {}))


RENDERERS: dict[str, Renderer] = {
    "case_opened": case_opened,
    "decision_points": decision_points,
    "signposts": signposts,
    "directory_results": directory_results,
    "my_cases": my_cases,
    "case_detail": case_detail,
    "victim_progress": victim_progress,
    "report_figures": report_figures,
    "my_visits": my_visits,
    "victim_case": victim_case,
    "welfare_record": welfare_record,
    "hospital_points": hospital_points,
    "victim_support": victim_support,
    "next_update": next_update,
}

#: Charts a say step can show (`chart:`), drawn from the results.
CHARTS: dict[str, Charter] = {
    "report_trend": report_trend,
}

CHOICES_FROM: dict[str, Provider] = {
    "my_cases": my_case_choices,
    "outstanding_points": outstanding_point_choices,
    "welfare_choice": welfare_choice,
    "update_choices": update_choices,
    "association_choices": association_choices,
}
