"""Mermaid diagrams are generated from the flows."""

from __future__ import annotations

from dialogs.mermaid import flow_diagram
from dialogs.schema import Pack


def test_each_flow_draws_every_step_and_branch(pack: Pack) -> None:
    flow = pack.flow("report_assault")
    assert flow is not None
    diagram = flow_diagram(pack, flow)
    assert diagram.splitlines()[1] == "flowchart TD"
    for step in flow.steps:
        assert f"    {step.id}" in diagram
    assert "check_victim -->|self| victim_is_self" in diagram
    assert "summary -->|confirm| open_case" in diagram
    assert "change -.->|change an answer, then| summary" in diagram
