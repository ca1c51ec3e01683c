"""The audit trail: a purpose on every row, and a hash chain that shows tampering, on both databases."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from store.audit import AuditEntry, append_audit, audit_rows, record_access, verify_chain
from store.db import make_sessions
from store.models import AccessAudit
from tests.conftest import START


def entry(index: int, purpose: str = "case_view") -> AuditEntry:
    return AuditEntry(
        at=START + timedelta(seconds=index),
        person_id=None,
        case_id=None,
        surface="console",
        action="view",
        purpose=purpose,
        detail=f"row {index}",
    )


def fill(engine: Engine, count: int = 5) -> None:
    with make_sessions(engine).begin() as session:
        for index in range(count):
            append_audit(session=session, entries=[entry(index)])


def verify(engine: Engine) -> tuple[int, object]:
    with Session(engine) as session:
        checked, broken = verify_chain(session=session)
    return checked, broken


def seq_of(engine: Engine, detail: str) -> int:
    with Session(engine) as session:
        return session.scalars(select(AccessAudit.seq).where(AccessAudit.detail == detail)).one()


def test_an_untouched_chain_verifies(engine: Engine) -> None:
    fill(engine)
    with make_sessions(engine).begin() as session:
        record_access(
            session=session,
            person=None,
            case=None,
            surface="slack",
            action="refused",
            purpose="probe",
            now=START,
        )
    assert verify(engine) == (6, None)
    with Session(engine) as session:
        assert [row.seq for row in audit_rows(session=session)] == [1, 2, 3, 4, 5, 6]
        assert audit_rows(session=session)[-1].purpose == "probe"


def test_an_empty_chain_verifies(engine: Engine) -> None:
    assert verify(engine) == (0, None)


def test_a_row_changed_by_hand_is_found(engine: Engine) -> None:
    fill(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE access_audit SET detail = 'nothing to see' WHERE detail = 'row 2'"))
    checked, broken = verify(engine)
    assert checked == 2 and broken is not None and broken.seq == 3
    assert "altered" in broken.reason


def test_a_purpose_changed_by_hand_is_found(engine: Engine) -> None:
    fill(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE access_audit SET purpose = 'reminder' WHERE detail = 'row 4'"))
    assert verify(engine)[1].seq == 5  # type: ignore[attr-defined]


def test_a_row_deleted_by_hand_is_found(engine: Engine) -> None:
    fill(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM access_audit WHERE detail = 'row 1'"))
    checked, broken = verify(engine)
    assert checked == 1 and broken is not None and broken.seq == 3 and "missing" in broken.reason


def test_a_rewritten_row_with_a_recomputed_hash_breaks_the_next(engine: Engine) -> None:
    fill(engine)
    from store.audit import chain_hash

    with Session(engine) as session:
        rows = audit_rows(session=session)
    forged = entry(1)
    forged = AuditEntry(**{**forged.__dict__, "detail": "forged"})
    new_hash = chain_hash(rows[0].chain_hash, 2, forged)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE access_audit SET detail = 'forged', chain_hash = :h WHERE seq = 2"), {"h": new_hash}
        )
    assert verify(engine)[1].seq == 3  # type: ignore[attr-defined]


def test_an_unknown_purpose_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="unknown audit purpose"), make_sessions(engine).begin() as session:
        append_audit(session=session, entries=[entry(0, purpose="curiosity")])


def test_a_batch_is_one_insert_and_chained_in_order(engine: Engine) -> None:
    from sqlalchemy import event

    inserts: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ACCESS_AUDIT"):
            inserts.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with make_sessions(engine).begin() as session:
            append_audit(session=session, entries=[entry(i) for i in range(40)])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(inserts) == 1
    assert verify(engine) == (40, None)
    assert seq_of(engine, "row 39") == 40


def test_writers_at_once_keep_one_chain(engine: Engine) -> None:
    """Eight threads appending together (PostgreSQL: eight connections racing for the last hash)."""
    sessions = make_sessions(engine)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            start.wait()
            for index in range(10):
                with sessions.begin() as session:
                    append_audit(
                        session=session, entries=[entry(worker * 100 + index), entry(worker * 100 + 50)]
                    )
        except BaseException as error:  # reported below, with the rest
            errors.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert verify(engine) == (160, None)
