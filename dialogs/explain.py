"""The plan in plain words: the page a force's single point of contact reviews before go-live.

For every point: where it comes from (its citations), who owns it (the pack's `plan.owners`), when
it falls due, when it applies, how it is reminded and to whom it escalates (by the sweep's rule),
whether the bot closes it itself (`completed_by`), and whether its rule is the seeds' or a default
the pack chose (`default_note`). `hampshire pack explain` prints it. This is text for the force's
administrators reviewing the pack, in English like the checker's messages, so it is not worded by
the pack's strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.plan import IO_ASSIGNED
from dialogs.schema import CompletedBy, Condition, DueRule, Holder, OwnerSpec, Pack, PointSpec, Trigger

__all__ = ["PointExplanation", "explain_plan", "explain_visits", "explanation_markdown", "explanation_text"]

#: Who holds an owner role on a case (the pack's `plan.owners` says which role each holder has).
_HOLDERS: dict[Holder, str] = {
    "reporter": "the reporting supervisor",
    "investigator": "the investigating officer",
    "area_leaders": "the senior leadership team of the case's area",
}
_RECIPIENTS: dict[str, str] = {"victim": "the victim", "fim": "the Force Incident Manager"}
_RECIPIENTS.update({str(k): v for k, v in _HOLDERS.items()})
#: The notices a point can be closed by delivering (`completed_by.delivered`), in words.
_NOTICES = {
    "slt_new_case": "notice of the new case",
    "victim_decision": "notice that a decision was recorded",
    "victim_io": "notice of who the investigating officer is",
    "fim_hospital": "notice that the victim is in hospital",
}
_TRIGGERS: dict[Trigger, str] = {
    "report": "the report",
    "arrest": "an arrest",
    "interview": "an interview under caution",
    "bail": "a release on bail",
    "released_under_investigation": "a release under investigation",
    "charge": "the charge",
    "out_of_court_disposal": "a caution or other out-of-court disposal",
    "no_further_action": "a decision to take no further action",
    "discontinuance": "the discontinuance of the prosecution",
    "court_outcome": "the court outcome",
    "key_decision": "a key decision",
}
_AFTER = {"reported": "the report", "occurred": "the incident"}
_WHEN_TRUE = {
    "enhanced_rights": "with enhanced rights",
    "hospitalised": "the victim is in hospital",
    "colleagues_present": "colleagues were present",
    "injured": "the victim is injured",
    "hate_crime": "it is a hate crime",
}


@dataclass(frozen=True)
class PointExplanation:
    """One plan point in plain words; `default` is the pack's note where the rule is its own."""

    code: str
    title: str
    source: str
    citations: tuple[str, ...]
    owner: str
    due: str
    applies: str
    reminders: str
    default: str | None
    closed_by_bot: str | None = None


def _plural(amount: int, unit: str) -> str:
    return f"{amount} {unit}" if amount == 1 else f"{amount} {unit}s"


def _measure(pack: Pack, rule: DueRule) -> str:
    if rule.hours is not None:
        return _plural(rule.hours, "hour")
    if rule.days is not None:
        return _plural(rule.days, "day")
    if rule.working_days is not None:
        return _plural(rule.working_days, "working day")
    meeting = pack.meta.meetings.get(rule.next_meeting or "")
    if meeting is None:
        return f"at the next {(rule.next_meeting or '').upper()}"
    every = "weekly" if meeting.every_weeks == 1 else f"every {meeting.every_weeks} weeks"
    return (
        f"at the next {(rule.next_meeting or '').upper()} ({meeting.weekday.title()}s at {meeting.time}, "
        f"{every}) at least {_plural(meeting.min_notice_hours, 'hour')} after {{after}}"
    )


def _started_by(point: PointSpec) -> str:
    """ "a key decision", "a decision to take no further action or the discontinuance …"."""
    return " or ".join(_TRIGGERS[t] for t in point.triggers)


def _rule(pack: Pack, rule: DueRule, point: PointSpec) -> str:
    """ "24 hours after the report", "5 working days after a key decision"."""
    after = _started_by(point) if rule.after == "decision" else _AFTER[rule.after]
    measure = _measure(pack, rule)
    return measure.format(after=after) if rule.next_meeting else f"{measure} after {after}"


def _fact(name: str, value: object) -> str:
    words = name.replace("_", " ")
    if value is True:
        return _WHEN_TRUE.get(name, words)
    if value is False:
        return f"not {words}"
    if isinstance(value, list):
        return f"{words} is {' or '.join(str(v) for v in value)}"
    return f"{words} is {value}"


def _condition(condition: Condition) -> str:
    return " and ".join(_fact(name, value) for name, value in condition.items())


def _due(pack: Pack, point: PointSpec) -> str:
    if point.repeat_every_days:
        first = _rule(pack, point.due, point)
        every = _plural(point.repeat_every_days, "day")
        return f"every {every}, or the interval agreed with the victim (first {first})"
    text = _rule(pack, point.due, point)
    variants = [
        f"{_measure(pack, v.due).format(after=_started_by(point))} {_condition(v.when)}"
        for v in point.due_when
    ]
    if variants:
        text += f" ({'; '.join(variants)})"
    if point.follow_ups:
        follow = ", ".join(_rule(pack, rule, point) for rule in point.follow_ups)
        text += f"; follow-ups {follow}"
    return text


def _applies(point: PointSpec) -> str:
    parts = []
    if point.triggers != ("report",):
        parts.append(f"once {_started_by(point)} is recorded")
    if point.when:
        parts.append(f"when {_condition(point.when)}")
    return ", ".join(parts) if parts else "every case"


def _escalated_to(owner: OwnerSpec | None) -> str:
    """Who hears that a point is overdue, by the sweep's rule: never someone who owns it."""
    if owner is not None and owner.held_by == "area_leaders":
        return "the force's Op Hampshire SPOC"
    return "the area's senior leadership team (the force's Op Hampshire SPOC where the area has none)"


def _reminders(pack: Pack, point: PointSpec) -> str:
    text = f"reminded when due, then every {_plural(point.nudge_every_hours, 'hour')} until done"
    if point.urgent:
        text = f"urgent: {text}"
    if point.escalate_after_hours is None:
        return f"{text}; never escalated"
    after = _plural(point.escalate_after_hours, "hour")
    to = _escalated_to(pack.plan.owners.get(point.owner))
    return f"{text}; escalated to {to} {after} after it falls due"


def _owner(pack: Pack, point: PointSpec) -> str:
    """The role and who holds it (the pack's `plan.owners`), and who is asked to fill it while empty."""
    spec = pack.plan.owners.get(point.owner)
    if spec is None:
        return f"{point.owner} (not one of the plan's owner roles)"
    held = _HOLDERS[spec.held_by]
    if spec.until_assigned is None:
        return f"{point.owner} ({held})"
    asked = _HOLDERS[spec.until_assigned]
    return f"{point.owner} ({held}; until one is assigned, {asked} is asked to assign one)"


def _closed_by_bot(evidence: CompletedBy | None) -> str | None:
    """ "closed by the bot when the IO is assigned", or None for a point only a person closes."""
    if evidence is None:
        return None
    if evidence.event is not None:
        event = "the IO is assigned" if evidence.event == IO_ASSIGNED else evidence.event.replace("_", " ")
        return f"closed by the bot when {event}"
    notice = _NOTICES.get(evidence.delivered or "", (evidence.delivered or "").replace("_", " "))
    to = "" if evidence.to is None else f" to {_RECIPIENTS[evidence.to]}"
    return f"closed by the bot when the {notice} is delivered{to}"


def _citation_text(point: PointSpec) -> tuple[str, ...]:
    return tuple(f'seed {c.seed}{f", point {c.point}" if c.point else ""}: "{c.quote}"' for c in point.cite)


def explain_plan(pack: Pack) -> list[PointExplanation]:
    """Every point of the pack's plan in plain words, in the plan's order."""
    return [
        PointExplanation(
            code=point.code,
            title=point.title,
            source=point.source,
            citations=_citation_text(point),
            owner=_owner(pack, point),
            due=_due(pack, point),
            applies=_applies(point),
            reminders=_reminders(pack, point),
            default=point.default_note,
            closed_by_bot=_closed_by_bot(point.completed_by),
        )
        for point in pack.plan.points
    ]


def _settings(pack: Pack) -> list[tuple[str, str]]:
    nudges = pack.meta.nudges
    return [
        ("Time zone and bank holidays", f"{pack.meta.timezone}; {pack.meta.bank_holidays}"),
        ("Quiet hours (no reminders)", f"{nudges.quiet_from} to {nudges.quiet_until}"),
        ("Daily digest to senior leaders", nudges.digest_time),
        ("'Remind me later' waits", _plural(nudges.snooze_hours, "hour")),
        ("Victims' Right to Review window told", _plural(nudges.review_window_months, "month")),
        ("Work email domains", ", ".join(pack.meta.work_email_domains)),
    ]


def _fields(item: PointExplanation) -> list[tuple[str, str]]:
    return [
        ("Source", item.source),
        *(("Cites", citation) for citation in item.citations or ("none: not in the seeds",)),
        ("Owner", item.owner),
        ("Falls due", item.due),
        ("Applies to", item.applies),
        ("Reminders", item.reminders),
        *((("Closes itself", item.closed_by_bot),) if item.closed_by_bot else ()),
        ("Rule", f"DEFAULT of the pack: {item.default}" if item.default else "as the seeds give it"),
    ]


#: Who owns an OPCC visit step (`visits.yaml`), in words.
_VISIT_OWNERS = {
    "commissioner": "the Police and Crime Commissioner",
    "opcc_chief_executive": "the OPCC's Chief Executive",
    "opcc_liaison": "the force's liaison to the OPCC",
    "visitor": "the visitor who asked",
}


def explain_visits(pack: Pack) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Each step of the OPCC visits protocol (`visits.yaml`): code, title and its fields in words."""
    if pack.visits is None:
        return []
    steps = []
    for code, spec in pack.visits.steps.items():
        if spec.before_visit_hours is not None:
            due = f"{_plural(spec.before_visit_hours, 'hour')} before the proposed visit date"
        else:
            start = "the step opens" if spec.counted_from == "opened" else "the proposed visit date"
            due = f"{_measure(pack, spec.due)} after {start}"
        reminders = f"every {_plural(spec.nudge_every_hours, 'hour')} while open"
        if spec.remind_before_due_hours is not None:
            reminders = f"from {_plural(spec.remind_before_due_hours, 'hour')} before it is due, " + reminders
        if spec.escalate_to and spec.escalate_after_hours is not None:
            reminders += (
                f"; escalated to {_VISIT_OWNERS[spec.escalate_to]} "
                f"{_plural(spec.escalate_after_hours, 'hour')} after it is due"
            )
        else:
            reminders += "; never escalated"
        cites = [f'seed {c.seed}: "{c.quote}"' for c in spec.cite] or ["none: not in the seeds"]
        fields = [
            *(("Cites", cite) for cite in cites),
            ("Owner", f"{spec.owner} ({_VISIT_OWNERS[spec.owner]})"),
            ("Falls due", due),
            ("Reminders", reminders),
            (
                "Rule",
                f"DEFAULT of the pack: {spec.default_note}" if spec.default_note else "as the seeds give it",
            ),
        ]
        steps.append((code, pack.text(spec.title), fields))
    return steps


def explanation_text(pack: Pack) -> str:
    """The whole explanation as plain text."""
    items = explain_plan(pack)
    defaults = sum(1 for item in items if item.default)
    lines = [
        f"{pack.meta.name}: plan of pack {pack.meta.id} {pack.version}",
        f"{len(items)} points; {defaults} use a default of the pack or narrow or extend a seed (DEFAULT).",
        "",
        *(f"{label}: {value}" for label, value in _settings(pack)),
    ]
    for number, item in enumerate(items, start=1):
        lines += ["", f"{number}. {item.title} [{item.code}]"]
        lines += [f"   {label}: {value}" for label, value in _fields(item)]
    visits = explain_visits(pack)
    if visits:
        lines += ["", "OPCC visits to victims (seed 004): the steps of a visit request"]
    for number, (code, title, fields) in enumerate(visits, start=1):
        lines += ["", f"V{number}. {title} [{code}]"]
        lines += [f"   {label}: {value}" for label, value in fields]
    return "\n".join(lines) + "\n"


def explanation_markdown(pack: Pack) -> str:
    """The whole explanation as Markdown, for a review document."""
    items = explain_plan(pack)
    lines = [f"# {pack.meta.name}: the plan", "", f"Pack `{pack.meta.id}` {pack.version}.", ""]
    lines += [f"- **{label}:** {value}" for label, value in _settings(pack)]
    for item in items:
        lines += ["", f"## {item.title} (`{item.code}`)", ""]
        lines += [f"- **{label}:** {value}" for label, value in _fields(item)]
    visits = explain_visits(pack)
    if visits:
        lines += ["", "# OPCC visits to victims (seed 004)"]
    for code, title, fields in visits:
        lines += ["", f"### {title} (`{code}`)", ""]
        lines += [f"- **{label}:** {value}" for label, value in fields]
    return "\n".join(lines) + "\n"
