"""Dialog state: where each conversation is, saved at the end of every turn.

Saves are compare-and-swap on a row version: two turns of the same conversation racing (a double
click, a retried request on another instance) cannot both win; the loser is retried by the router
on the fresh state. A row that cannot be read is quarantined, never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dialogs.types import DialogState
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


def load_state(*, session: Session, key: str, now: datetime) -> LoadedState:
    """Read the state for conversation `key`; a new conversation starts empty at version 0.

    A row that does not parse as a `DialogState` is moved aside to `quarantined` (for a human to
    inspect) and the conversation starts afresh with `reset=True`.
    """
    row = session.get(DialogStateRow, key)
    if row is None:
        return LoadedState(DialogState(), 0)
    try:
        return LoadedState(DialogState.model_validate_json(row.state), row.version)
    except ValidationError:
        row.quarantined = row.state
        row.state = DialogState().model_dump_json()
        row.version += 1
        row.updated_at = now
        session.flush()
        return LoadedState(DialogState(), row.version, reset=True)


def save_state(*, session: Session, key: str, state: DialogState, version: int, now: datetime) -> int:
    """Save `state` if the row is still at `version`; return the new version.

    Raises:
        StaleStateError: another turn saved the conversation since it was read.
    """
    text = state.model_dump_json()
    if version == 0:
        try:
            with session.begin_nested():
                session.add(DialogStateRow(key=key, state=text, version=1, updated_at=now))
        except IntegrityError as error:
            raise StaleStateError(key) from error
        return 1
    result = session.execute(
        update(DialogStateRow)
        .where(DialogStateRow.key == key, DialogStateRow.version == version)
        .values(state=text, version=version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleStateError(key)
    return version + 1
