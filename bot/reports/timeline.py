"""One case's timeline: what happened to it and its plan points, for `hampshire report case`.

The timeline holds ids and kinds, never the answers given about the assault; a report of one case
is itself a view of it, and audited as one.
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from bot.reports.labels import EVENTS, STATUSES, choice_labels, text
from bot.reports.scope import Scope
from bot.reports.tables import Cell, Column, Report, Table
from bot.reports.wording import finish
from dialogs.schema import Pack
from store.audit import record_access
from store.cases import find_case
from store.models import CaseEvent, Person, PlanPoint

__all__ = ["case_timeline"]


def _when(pack: Pack, scope: Scope, at: datetime | None) -> str | None:
    if at is None:
        return None
    return format_datetime(at.astimezone(scope.tz), format="EEE d MMM yyyy, HH:mm", locale=pack.meta.locale)


def _detail(pack: Pack, detail: dict[str, object], titles: dict[str, str], decisions: dict[str, str]) -> str:
    """The ids a timeline entry carries, in words: a point's title, a decision's label, a count of days."""
    parts = []
    if isinstance(detail.get("point"), str):
        parts.append(titles.get(str(detail["point"]), str(detail["point"])))
    if isinstance(detail.get("decision"), str):
        parts.append(decisions.get(str(detail["decision"]), str(detail["decision"])))
    if "days" in detail:
        parts.append(str(detail["days"]))
    return "; ".join(parts)


def case_timeline(
    pack: Pack, *, session: Session, reference: str, scope: Scope, now: datetime
) -> Report | None:
    """The timeline of the case `reference` (None if there is none); the view is audited."""
    case = find_case(session=session, reference=reference)
    if case is None:
        return None
    record_access(
        session=session, person=None, case=case, surface="cli", action="report", purpose="export", now=now
    )
    titles = {spec.code: spec.title for spec in pack.plan.points}
    decisions = choice_labels(pack, "decision")
    actor = aliased(Person)
    events = session.execute(
        select(CaseEvent, actor.display_name, actor.email)
        .outerjoin(actor, actor.id == CaseEvent.actor_id)
        .where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.at, CaseEvent.id)
    ).all()
    col = pack.text
    event_rows: list[tuple[Cell, ...]] = [
        (
            _when(pack, scope, event.at),
            (text(pack, EVENTS[event.kind]) if event.kind in EVENTS else event.kind)
            + (f": {detail}" if (detail := _detail(pack, event.detail or {}, titles, decisions)) else ""),
            name or email,
        )
        for event, name, email in events
    ]
    points = session.scalars(
        select(PlanPoint).where(PlanPoint.case_id == case.id).order_by(PlanPoint.due_at, PlanPoint.id)
    ).all()
    point_rows: list[tuple[Cell, ...]] = [
        (
            titles.get(p.code, p.code) + (f" ({p.instance})" if p.instance > 1 else ""),
            _when(pack, scope, p.due_at),
            text(pack, STATUSES[p.status]) if p.status in STATUSES else p.status,
            _when(pack, scope, p.done_at),
        )
        for p in points
    ]
    tables = [
        Table(
            id="timeline",
            title=col("strings.report_timeline"),
            columns=(
                Column("when", col("strings.report_col_when"), "when"),
                Column("event", col("strings.report_col_event"), "label"),
                Column("by", col("strings.report_col_by"), "person"),
            ),
            rows=tuple(event_rows),
        ),
        Table(
            id="points",
            title=col("strings.report_case_points"),
            columns=(
                Column("point", col("strings.report_col_point"), "label"),
                Column("due_at", col("strings.report_col_due_at"), "when"),
                Column("status", col("strings.report_col_status"), "label"),
                Column("done_at", col("strings.report_col_done_at"), "when"),
            ),
            rows=tuple(point_rows),
        ),
    ]
    kind = choice_labels(pack, "kind").get(case.kind, case.kind)
    area = choice_labels(pack, "area").get(case.area, case.area)
    return finish(
        pack,
        kind="case",
        title=text(pack, "strings.report_title_case", reference=case.reference),
        covering=f"{kind}, {area}",
        scope=scope,
        tables=tables,
        headline=(),
        main_chart=None,
        now=now,
    )
