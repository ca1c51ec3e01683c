"""Log text, kept out of control flow. Log lines carry ids and kinds, never what people said."""

from __future__ import annotations

import traceback

__all__ = [
    "where_it_failed",
    "state_conflict",
    "state_quarantined",
    "state_stale",
    "turn_failed",
]


def state_conflict(attempt: int) -> str:
    return f"dialog state changed under this turn; retrying (attempt {attempt})"


def state_quarantined(person_id: int) -> str:
    return f"unreadable dialog state quarantined for person {person_id}; conversation restarted"


def state_stale(flow: str | None, step: str | None) -> str:
    return f"stored dialog points at {flow}.{step}, which the pack no longer has; restarting the flow"


def turn_failed(channel: str, error: BaseException) -> str:
    return f"turn on {channel} failed with {type(error).__name__} at {where_it_failed(error)}"


def where_it_failed(error: BaseException) -> str:
    """The frames of a failure (file, line, function), without its message or any values.

    Exception messages can quote the data being processed (a database error quotes its row), so
    only the location is logged.
    """
    frames = traceback.extract_tb(error.__traceback__)
    return " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames[-8:]))
