"""Words a report shows, from the pack: headings by string id, values by the flows' own choices.

A case's kind, area or strand is stored as the value of the choice the supervisor picked; the
report shows that choice's label, so it reads as the conversation did.
"""

from __future__ import annotations

from dialogs.schema import AskStep, Pack

__all__ = ["AUDIENCE_NOTES", "EVENTS", "STATUSES", "choice_labels", "html_lang", "text"]

#: Timeline entries with a label of their own (others show their kind as stored).
EVENTS: dict[str, str] = {
    "created": "strings.report_event_created",
    "point_done": "strings.report_event_point_done",
    "point_not_applicable": "strings.report_event_point_not_applicable",
    "point_snoozed": "strings.report_event_point_snoozed",
    "point_done_by_bot": "strings.report_event_point_done_by_bot",
    "decision_recorded": "strings.report_event_decision_recorded",
    "investigator_assigned": "strings.report_event_investigator_assigned",
    "update_interval_set": "strings.report_event_update_interval_set",
}
#: What a report says about who may read it.
AUDIENCE_NOTES: dict[str, str] = {
    "internal": "strings.report_audience_internal",
    "panel": "strings.report_audience_panel",
}
#: A plan point's status.
STATUSES: dict[str, str] = {
    "open": "strings.report_status_open",
    "done": "strings.report_status_done",
    "not_applicable": "strings.report_status_not_applicable",
}


def text(pack: Pack, key: str, **values: object) -> str:
    """A pack string with its `{placeholders}` filled."""
    template = pack.text(key)
    return template.format(**values) if values else template


def choice_labels(pack: Pack, slot: str) -> dict[str, str]:
    """Value -> label of every choice a flow offers for `slot` (e.g. `area`, `kind`, `decision`)."""
    labels: dict[str, str] = {}
    for flow in pack.flows:
        for step in flow.steps:
            if isinstance(step, AskStep) and step.slot == slot:
                for choice in step.choices:
                    labels.setdefault(choice.value, pack.text(choice.label))
    return labels


def html_lang(pack: Pack) -> str:
    """The pack's locale as an HTML language tag (en_GB -> en-GB)."""
    return pack.meta.locale.replace("_", "-")
