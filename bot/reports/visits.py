"""The OPCC visit requests in `hampshire report compliance` (seed 004): requested, approved,
declined and debriefed, by the quarter the request was made in.

Requests belong to the Commissioner's office, not to an area, so they are counted across the force
whatever area the report covers; a panel audience sees small counts hidden like any other table.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.reports.scope import Scope
from bot.reports.tables import Column, Table
from dialogs.schema import Pack
from store.visits import visit_counts

__all__ = ["visits_table"]


def visits_table(pack: Pack, *, session: Session, scope: Scope) -> Table:
    """Visit requests made in `scope`'s period, by quarter (all counts, force-wide)."""
    col = pack.text
    counts = visit_counts(session=session, timezone=pack.meta.timezone, start=scope.start, end=scope.end)
    return Table(
        id="visits",
        title=col("strings.report_visits"),
        columns=(
            Column("quarter", col("strings.report_col_quarter"), "label"),
            Column("requested", col("strings.report_col_visits_requested")),
            Column("approved", col("strings.report_col_visits_approved")),
            Column("declined", col("strings.report_col_visits_declined")),
            Column("debriefed", col("strings.report_col_visits_debriefed")),
        ),
        rows=tuple((q.quarter, q.requested, q.approved, q.declined, q.debriefed) for q in counts),
        chart="bar",
        note=col("strings.report_visits_note"),
    )
