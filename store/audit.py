"""The access audit: one row for every view, change, disclosure or refusal of a case, with its purpose.

The rows form a hash chain (DPA 2018 s.62 logs must be tamper-evident): each row has a sequence
number one past the previous row's, and its `chain_hash` is SHA-256 over the previous row's hash
and the row's own content. Editing a row breaks its hash; removing or inserting one breaks the next
row's. Appending is serialized so the chain never forks: on PostgreSQL by a transaction-scoped
advisory lock taken before the last hash is read, on SQLite by the write lock every transaction
takes (`BEGIN IMMEDIATE`, see `store.db`); a unique sequence number backs both up.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from store.models import AccessAudit, Case, Person

__all__ = [
    "GENESIS",
    "PURPOSES",
    "AuditEntry",
    "Broken",
    "append_audit",
    "audit_rows",
    "chain_hash",
    "record_access",
    "verify_chain",
]

#: Why data was read or refused: every audit row names one.
PURPOSES = frozenset(
    {
        "case_report",  # a case was opened
        "case_view",  # a case (or a list of them) was shown to someone entitled to it
        "case_update",  # a case was changed
        "probe",  # a request for a case, or a request at all, that was refused
        "reminder",  # a reminder naming the case was delivered (a disclosure)
        "export",  # the case went out of the bot in a report or export
        "subject_access",  # a person's data was exported for their subject access request
        "visit",  # an OPCC visit request was made, read or decided (seed 004)
        "retention",  # a closed case was deleted at the end of the pack's retention period
    }
)
#: The hash before the first row.
GENESIS = "0" * 64
#: The PostgreSQL advisory lock that serializes appends ("OHAU" in ASCII).
_ADVISORY_LOCK = 0x4F484155


@dataclass(frozen=True)
class AuditEntry:
    """One audit row to append: who, which case, through which surface, what they did and why."""

    at: datetime
    person_id: int | None
    case_id: int | None
    surface: str
    action: str
    purpose: str
    detail: str | None = None


def chain_hash(previous: str, seq: int, entry: AuditEntry) -> str:
    """The hash of row `seq` holding `entry`, chained to the `previous` row's hash."""
    content = [
        seq,
        entry.at.astimezone(UTC).isoformat(),
        entry.person_id,
        entry.case_id,
        entry.surface,
        entry.action,
        entry.purpose,
        entry.detail,
    ]
    data = previous + json.dumps(content, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(data.encode("ascii")).hexdigest()


def append_audit(*, session: Session, entries: Sequence[AuditEntry]) -> None:
    """Append `entries` to the chain in one insert (a batch of disclosures is one statement).

    Raises:
        ValueError: an entry names a purpose that is not one of `PURPOSES`.
    """
    if not entries:
        return
    for entry in entries:
        if entry.purpose not in PURPOSES:
            raise ValueError(f"unknown audit purpose {entry.purpose!r}")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
    last = session.execute(
        select(AccessAudit.seq, AccessAudit.chain_hash).order_by(AccessAudit.seq.desc()).limit(1)
    ).first()
    seq, previous = (last.seq, last.chain_hash) if last else (0, GENESIS)
    rows = []
    for entry in entries:
        seq += 1
        previous = chain_hash(previous, seq, entry)
        rows.append({**entry.__dict__, "seq": seq, "chain_hash": previous})
    session.execute(insert(AccessAudit), rows)


#: How much of a reference that names nothing is kept in its audit row (a probe may send anything).
PROBED_REFERENCE_LENGTH = 40


def record_probe(
    *,
    session: Session,
    person: Person,
    named: str,
    reference: str,
    found: bool,
    surface: str,
    now: datetime,
    case: Case | None = None,
) -> Literal["not_found"]:
    """Audit a look-up of a reference that names nothing `person` has a part in, and answer it.

    A reference that names no record and one that names a record the person has no part in get the
    same answer, `not_found`, so that trying references cannot tell a stranger which exist; both
    are audited as probes (`denied` when the record exists; a case's row names the case itself,
    any other's the reference tried).

    Args:
        named: what the reference names, for the audit row ("reference" for a case, "visit").
        found: whether the reference names a record.
    """
    record_access(
        session=session, person=person, case=case, surface=surface, action="denied" if found else "not_found",
        purpose="probe", now=now,
        detail=None if case is not None else f"{named} {reference.strip()[:PROBED_REFERENCE_LENGTH]}",
    )  # fmt: skip
    return "not_found"


def record_access(
    *,
    session: Session,
    person: Person | None,
    case: Case | None,
    surface: str,
    action: str,
    purpose: str,
    now: datetime,
    detail: str | None = None,
) -> None:
    """Write an audit row: who (`person`), which case, through which surface, what they did, why."""
    entry = AuditEntry(
        at=now,
        person_id=person.id if person else None,
        case_id=case.id if case else None,
        surface=surface,
        action=action,
        purpose=purpose,
        detail=detail,
    )
    append_audit(session=session, entries=[entry])


def audit_rows(*, session: Session, case: Case | None = None) -> list[AccessAudit]:
    """Audit rows, oldest first (for one case if given)."""
    query = select(AccessAudit).order_by(AccessAudit.seq)
    if case is not None:
        query = query.where(AccessAudit.case_id == case.id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class Broken:
    """The first audit row that does not fit the chain, and how."""

    id: int
    seq: int
    reason: str


def _entry(row: AccessAudit) -> AuditEntry:
    return AuditEntry(
        at=row.at,
        person_id=row.person_id,
        case_id=row.case_id,
        surface=row.surface,
        action=row.action,
        purpose=row.purpose,
        detail=row.detail,
    )


def _rows_in_order(session: Session, batch: int) -> Iterator[AccessAudit]:
    after = 0
    while True:
        rows = list(
            session.scalars(
                select(AccessAudit).where(AccessAudit.seq > after).order_by(AccessAudit.seq).limit(batch)
            )
        )
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq
        session.expunge_all()  # a long chain is read a batch at a time, not held in memory


def verify_chain(*, session: Session, batch: int = 1000) -> tuple[int, Broken | None]:
    """Walk the chain from the first row; the number of rows checked and the first broken one."""
    previous, expected, checked = GENESIS, 1, 0
    for row in _rows_in_order(session, batch):
        if row.seq != expected:
            reason = "rows before it are missing" if row.seq > expected else "its sequence number repeats"
            return checked, Broken(row.id, row.seq, reason)
        if chain_hash(previous, row.seq, _entry(row)) != row.chain_hash:
            return checked, Broken(
                row.id, row.seq, "its content or hash was altered, or a row was put before it"
            )
        previous, expected, checked = row.chain_hash, expected + 1, checked + 1
    return checked, None
