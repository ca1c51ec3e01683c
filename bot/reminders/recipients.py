"""Who is reminded of an open point: the pack's owner roles (`plan.owners`), read by the sweep."""

from __future__ import annotations

from typing import Literal

from dialogs.schema import Holder, Pack

__all__ = ["reminded"]


def reminded(
    pack: Pack, *, owner_role: str, owner_id: int | None
) -> tuple[Literal["nudge", "unassigned"], Holder | Literal["owner"]]:
    """Who is reminded of an open point, and how: its owner; else whoever holds the role.

    While nobody holds a role that a person must be assigned to (the IO), its `until_assigned`
    holder is asked to assign someone (`unassigned`) instead of being asked to do the point.
    """
    owner = pack.plan.owners.get(owner_role)
    if owner_id is not None or owner is None:
        return "nudge", "owner"
    if owner.until_assigned is not None:
        return "unassigned", owner.until_assigned
    return "nudge", owner.held_by
