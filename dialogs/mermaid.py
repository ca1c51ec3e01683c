"""Mermaid diagrams of a pack's flows, generated from the YAML rather than drawn by hand."""

from __future__ import annotations

from dialogs.schema import (
    ActionStep,
    AskStep,
    CorrectStep,
    EffectStep,
    Flow,
    Pack,
    SayStep,
    Step,
    SummaryStep,
)

__all__ = ["flow_diagram"]

_SHAPES = {
    SayStep: ("[/", "/]"),
    AskStep: ("[", "]"),
    EffectStep: ("[[", "]]"),
    ActionStep: ("{{", "}}"),
    SummaryStep: ("([", "])"),
    CorrectStep: ("([", "])"),
}


def _node(step: Step) -> str:
    left, right = _SHAPES[type(step)]
    kind = type(step).__name__.removesuffix("Step").lower()
    detail = getattr(step, "effect", None) or getattr(step, "action", None) or ""
    label = f"{step.id}<br/><i>{kind}{' ' + detail if detail else ''}</i>"
    return f'    {step.id}{left}"{label}"{right}'


def flow_diagram(pack: Pack, flow: Flow) -> str:
    """A `flowchart TD` of `flow`: one node per step, edges labelled with the answer or outcome."""
    lines = [f"%% {flow.id}: {pack.text(flow.title)}", "flowchart TD"]
    lines += [_node(step) for step in flow.steps]
    for index, step in enumerate(flow.steps):
        for key, target in step.on.items():
            lines.append(f"    {step.id} -->|{key}| {target}")
        if isinstance(step, AskStep) and step.otherwise:
            lines.append(f"    {step.id} -->|typed text| {step.otherwise.next}")
        if isinstance(step, CorrectStep):
            lines.append(f"    {step.id} -.->|change an answer, then| {step.return_to}")
        following = step.next
        if following is None and not step.end and index + 1 < len(flow.steps):
            following = flow.steps[index + 1].id
        if following:
            lines.append(f"    {step.id} --> {following}")
        elif step.end or index + 1 == len(flow.steps):
            lines.append(f"    {step.id} --> END([end])")
    return "\n".join(lines)
