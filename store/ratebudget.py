"""Rate budgets in the database, so that every instance spends one budget between them.

A window allows `size` sends per `span` seconds. Its last `size` send times sit in a ring of slots
(`rate_slot`), with `head` naming the oldest; a send fits when the oldest has left the window, and
then takes its slot. Every window a send falls under is locked, in name order (so two instances
never deadlock), checked, and counted in one transaction: two instances can never both take the
last place in a window. On SQLite every transaction begins IMMEDIATE, which serialises them too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from store.dialects import insert_for
from store.models import RateSlot, RateWindow

__all__ = ["Window", "take_budget"]


@dataclass(frozen=True)
class Window:
    """At most `size` sends per `span` seconds, counted under `name`."""

    name: str
    size: int
    span: float


def take_budget(*, session: Session, windows: Sequence[Window], clock: Callable[[], float]) -> float:
    """Count one send against every window in `windows` if it fits them all; else count nothing.

    Returns 0 when the send was counted, or the seconds until it would fit. `clock` (seconds since
    1970) is read once the windows are locked, so the times counted in a window only ever rise.
    """
    if not windows:
        return 0.0
    by_name = {window.name: window for window in windows}
    names = sorted(by_name)
    session.execute(
        insert_for(session, RateWindow).on_conflict_do_nothing(index_elements=["name"]),
        [{"name": name, "size": by_name[name].size, "head": 0} for name in names],
    )
    query = select(RateWindow).where(RateWindow.name.in_(names)).order_by(RateWindow.name)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    rows = {row.name: row for row in session.scalars(query)}
    now = clock()
    for name, row in rows.items():
        if row.size != by_name[name].size:  # the platform's published limit changed: start afresh
            session.execute(delete(RateSlot).where(RateSlot.name == name))
            row.size, row.head = by_name[name].size, 0
    session.flush()
    # Only the oldest send in each window and the latest: a window may hold hundreds.
    wanted = [
        and_(RateSlot.name == name, RateSlot.slot.in_([row.head, (row.head - 1) % row.size]))
        for name, row in rows.items()
    ]
    slots = {
        (slot.name, slot.slot): slot.at for slot in session.scalars(select(RateSlot).where(or_(*wanted)))
    }
    wait = 0.0
    latest = now
    for name, row in rows.items():
        oldest = slots.get((name, row.head))
        if oldest is not None:
            wait = max(wait, oldest + by_name[name].span - now)
        # Another instance's clock may run a little ahead: never count a send before the last one.
        latest = max(latest, slots.get((name, (row.head - 1) % row.size), now))
    if wait > 0:
        return wait
    session.execute(
        insert_for(session, RateSlot).on_conflict_do_update(
            index_elements=["name", "slot"], set_={"at": latest}
        ),
        [{"name": name, "slot": row.head, "at": latest} for name, row in rows.items()],
    )
    for row in rows.values():
        row.head = (row.head + 1) % row.size
    return 0.0
