"""Dialog state: where each conversation is, saved at the end of every turn.

Saves are compare-and-swap on a row version: two turns of the same conversation racing (a double
click, a retried request on another instance) cannot both win; the loser is retried by the router
on the fresh state. A row that cannot be read is quarantined, never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from pydantic import ValidationError
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from dialogs.types import DialogState
from store.dialects import INSERTS
from store.models import DialogStateRow

__all__ = ["LoadedState", "StaleStateError", "load_state", "save_state"]


class StaleStateError(RuntimeError):
    """Another turn saved this conversation first."""


@dataclass(frozen=True)
class LoadedState:
    """A conversation's state, the row version it was read at, and whether it had to be reset."""

    state: DialogState
    version: int
    reset: bool = False


_STATES = cast(Table, DialogStateRow.__table__)
# Built once: a turn reads and writes its conversation's row with these alone.
_LOAD = select(_STATES.c.state, _STATES.c.version).where(_STATES.c.key == bindparam("key"))
_SAVE = (
    update(_STATES)
    .where(_STATES.c.key == bindparam("row_key"), _STATES.c.version == bindparam("was"))
    .values(version=bindparam("new_version"), state=bindparam("new_state"), updated_at=bindparam("now"))
)
_QUARANTINE = _SAVE.values(quarantined=bindparam("unreadable"))
#: A new conversation's first save: no row inserted means another turn saved it first.
_FIRST = {
    name: insert(_STATES)
    .on_conflict_do_nothing(index_elements=[_STATES.c.key])
    .execution_options(preserve_rowcount=True)
    for name, insert in INSERTS.items()
}


def load_state(*, session: Session, key: str, now: datetime) -> LoadedState:
    """Read the state for conversation `key`; a new conversation starts empty at version 0.

    A row that does not parse as a `DialogState` is moved aside to `quarantined` (for a human to
    inspect) and the conversation starts afresh with `reset=True`.

    Raises:
        StaleStateError: another turn saved the conversation while its unreadable row was moved aside.
    """
    row = session.execute(_LOAD, {"key": key}).first()
    if row is None:
        return LoadedState(DialogState(), 0)
    text, version = row
    try:
        return LoadedState(DialogState.model_validate_json(text), version)
    except ValidationError:
        fresh = DialogState()
        _swap(session, key, fresh.model_dump_json(), version, now, unreadable=text)
        return LoadedState(fresh, version + 1, reset=True)


def save_state(*, session: Session, key: str, state: DialogState, version: int, now: datetime) -> int:
    """Save `state` if the row is still at `version`; return the new version.

    Raises:
        StaleStateError: another turn saved the conversation since it was read.
    """
    text = state.model_dump_json()
    if version == 0:
        row = {"key": key, "state": text, "version": 1, "updated_at": now}
        if session.execute(_FIRST[session.get_bind().dialect.name], row).rowcount != 1:  # type: ignore[attr-defined]
            raise StaleStateError(key)
        return 1
    _swap(session, key, text, version, now)
    return version + 1


def _swap(
    session: Session, key: str, text: str, version: int, now: datetime, unreadable: str | None = None
) -> None:
    values = {"row_key": key, "was": version, "new_version": version + 1, "new_state": text, "now": now}
    if unreadable is None:
        result = session.execute(_SAVE, values)
    else:
        result = session.execute(_QUARANTINE, {**values, "unreadable": unreadable})
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleStateError(key)
