"""The data key: a wrong key refused, rotation, and the migration that encrypts existing rows."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.runtime import Runtime
from store.audit import verify_chain
from store.crypto import DataKeyError, Keyring, keyring_of, new_key, read_key_file
from store.data_key import check_data_key, encrypted_columns, rotate_key
from store.db import key_file, make_engine, upgrade
from store.models import AccessAudit, Case, DialogStateRow, InboxItem, PlanPoint, UTCDateTime, WelfareRecord
from tests.conftest import POSTGRES_URL, START, postgres_schema
from tests.store.test_crypto import CANARIES, raw_dump, report_with_canaries, stored_location_keys


def reopen(engine: Engine, data_key: str | None) -> Engine:
    """Another engine on the same database, with another key."""
    if engine.dialect.name == "sqlite":
        return make_engine(engine.url.render_as_string(hide_password=False), data_key=data_key)
    with engine.connect() as connection:
        schema = connection.exec_driver_sql("SHOW search_path").scalar()
    return make_engine(POSTGRES_URL, data_key=data_key, connect_args={"options": f"-csearch_path={schema}"})


def location(engine: Engine) -> str:
    with Session(engine) as session:
        return session.scalars(select(Case.location)).one()


def raw_locations(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.exec_driver_sql('SELECT location FROM "case"').scalars())


def test_every_sensitive_column_is_encrypted() -> None:
    found = {(c.table, c.column) for c in encrypted_columns()}
    assert found == {
        ("case", "location"),
        ("case", "injury_detail"),
        ("case", "crime_reference"),
        ("case", "association"),
        ("plan_point", "na_reason"),
        ("welfare_record", "how_they_are"),
        ("welfare_record", "support_needed"),
        ("welfare_record", "duties_handover"),
        ("dialog_state", "state"),
        ("dialog_state", "quarantined"),
        ("inbox_item", "payload"),
        ("reply_outbox", "payload"),
        ("nudge", "payload"),
        ("visit_request", "nature"),
        ("visit_request", "guidance_text"),
        ("visit_request", "issues"),
        ("visit_request", "plan"),
        ("visit_request", "reason"),
        ("visit_request", "debrief"),
        ("visit_step", "na_reason"),
        ("data_key_check", "token"),
    }


def test_a_wrong_key_is_refused_before_anything_is_read(runtime: Runtime) -> None:
    report_with_canaries(runtime)
    check_data_key(runtime.engine)  # the right key
    wrong = reopen(runtime.engine, new_key())
    with pytest.raises(DataKeyError, match="does not open the encrypted data") as refused:
        check_data_key(wrong)
    assert "\n" not in str(refused.value)


def test_rotation_re_encrypts_everything_under_the_new_key(runtime: Runtime) -> None:
    report_with_canaries(runtime)
    old = keyring_of(runtime.engine).keys[0]
    with pytest.raises(DataKeyError, match="holds one key"):
        rotate_key(reopen(runtime.engine, old))
    before = raw_locations(runtime.engine)
    new = new_key()
    count = rotate_key(reopen(runtime.engine, f"{new},{old}"))
    # location, injury, crime reference, three welfare answers, two conversations, the check row
    assert count >= 9
    after = raw_locations(runtime.engine)
    assert after != before and CANARIES["location"] not in raw_dump(runtime.engine)
    # The keyed hashes the reports group by are recomputed under the new key.
    assert set(stored_location_keys(runtime.engine).values()) == {
        Keyring([new]).keyed_hash(CANARIES["location"])
    }
    only_new = reopen(runtime.engine, new)
    check_data_key(only_new)
    assert location(only_new) == CANARIES["location"]
    with pytest.raises(DataKeyError):
        check_data_key(reopen(runtime.engine, old))


def test_the_embedded_key_file_is_rotated_in_place(sqlite_runtime: Runtime, tmp_path: Path) -> None:
    report_with_canaries(sqlite_runtime)
    url = sqlite_runtime.engine.url.render_as_string(hide_password=False)
    path = key_file(url)
    assert path is not None
    old = read_key_file(path).keys
    assert rotate_key(sqlite_runtime.engine, key_file=path) >= 9
    new = read_key_file(path).keys
    assert len(new) == 1 and new != old and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(stored_location_keys(sqlite_runtime.engine).values()) == {
        Keyring(new).keyed_hash(CANARIES["location"])
    }
    reopened = make_engine(url)
    check_data_key(reopened)
    assert location(reopened) == CANARIES["location"]
    with pytest.raises(DataKeyError):
        check_data_key(make_engine(url, data_key=old[0]))


# --- the migration -------------------------------------------------------------------------------


def _insert(connection: sa.Connection, name: str, **values: Any) -> None:
    columns = [sa.column(k, UTCDateTime()) if k.endswith("_at") else sa.column(k) for k in values]
    connection.execute(sa.table(name, *columns).insert().values(**values))


def _rows_as_0005_wrote_them(engine: Engine) -> None:
    with engine.begin() as c:
        for person_id, email in (
            (1, "sgt.ravi.kaur@example.police.uk"),
            (2, "pc.amy.hart@example.police.uk"),
        ):
            _insert(c, "person", id=person_id, email=email, created_at=START)
        _insert(
            c, "case", id=1, reference="OH-2026-0001", submission_key="k", kind="spitting", hate_crime=False,
            enhanced_rights=False, occurred_at=START, reported_at=START, location=CANARIES["location"],
            area="coventry", injury_level="minor", injury_detail=CANARIES["injury"], hospitalised=False,
            suspect_arrested="no", crime_reference=CANARIES["crime"], victim_id=2, victim_role="officer",
            reporter_id=1, consent_contact=True, status="open",
        )  # fmt: skip
        _insert(
            c, "welfare_record", id=1, case_id=1, how_they_are=CANARIES["how"],
            support_needed=CANARIES["support"], duties_handover=CANARIES["handover"], recorded_by_id=1,
            recorded_at=START,
        )  # fmt: skip
        _insert(
            c, "plan_point", id=1, case_id=1, code="esafety_report", instance=1, owner_role="supervisor",
            due_at=START, urgent=False, status="not_applicable", na_reason=CANARIES["reason"], nudge_count=0,
        )  # fmt: skip
        _insert(
            c,
            "dialog_state",
            key="console::x",
            state=f'{{"flow":"{CANARIES["half"]}"}}',
            version=1,
            updated_at=START,
        )
        c.execute(
            sa.text(
                "INSERT INTO inbox_item (id, source, dedupe_key, payload, status, attempts, received_at, "
                "lease_until) VALUES (1, 'slack', 'Ev1', :payload, 'pending', 1, :at, :at)"
            ).bindparams(sa.bindparam("at", type_=UTCDateTime())),
            {"payload": f'{{"text": "{CANARIES["inbox"]}"}}', "at": START},
        )
        for audit_id, action in enumerate(("create", "view", "denied", "refused"), start=1):
            _insert(
                c, "access_audit", id=audit_id, at=START + timedelta(minutes=audit_id), person_id=1,
                case_id=1 if action != "refused" else None, surface="console", action=action,
            )  # fmt: skip


def test_the_migration_encrypts_rows_already_there_and_chains_the_audit(unmigrated_engine: Engine) -> None:
    upgrade(unmigrated_engine, "0005_perf")
    _rows_as_0005_wrote_them(unmigrated_engine)
    assert CANARIES["location"] in raw_dump(unmigrated_engine)
    upgrade(unmigrated_engine)
    dump = raw_dump(unmigrated_engine)
    for canary in CANARIES.values():
        assert canary not in dump
    check_data_key(unmigrated_engine)
    with Session(unmigrated_engine) as session:
        case = session.scalars(select(Case)).one()
        assert (case.location, case.injury_detail, case.crime_reference) == (
            CANARIES["location"],
            CANARIES["injury"],
            CANARIES["crime"],
        )
        assert case.location_key == keyring_of(unmigrated_engine).keyed_hash(CANARIES["location"])
        assert session.scalars(select(WelfareRecord.support_needed)).one() == CANARIES["support"]
        assert session.scalars(select(PlanPoint.na_reason)).one() == CANARIES["reason"]
        # 0014_location_key: the point carries its case's area and time, copied from the case.
        point = session.execute(select(PlanPoint.case_area, PlanPoint.case_occurred_at)).one()
        assert tuple(point) == ("coventry", START)
        assert session.scalars(select(DialogStateRow.state)).one() == f'{{"flow":"{CANARIES["half"]}"}}'
        assert session.scalars(select(InboxItem.payload)).one() == {"text": CANARIES["inbox"]}
        audit = session.scalars(select(AccessAudit).order_by(AccessAudit.seq)).all()
        assert [(a.seq, a.action, a.purpose) for a in audit] == [
            (1, "create", "case_report"),
            (2, "view", "case_view"),
            (3, "denied", "probe"),
            (4, "refused", "probe"),
        ]
        assert verify_chain(session=session) == (4, None)


def test_trade_union_membership_already_stored_is_encrypted_in_place(unmigrated_engine: Engine) -> None:
    upgrade(unmigrated_engine, "0005_perf")
    _rows_as_0005_wrote_them(unmigrated_engine)
    upgrade(unmigrated_engine, "0014_location_key")
    with unmigrated_engine.begin() as connection:
        connection.exec_driver_sql(
            """UPDATE "case" SET association = 'unison', consent_association = true WHERE id = 1"""
        )
    upgrade(unmigrated_engine)
    with unmigrated_engine.connect() as connection:
        stored = connection.exec_driver_sql('SELECT association FROM "case"').scalar()
    assert stored is not None and "unison" not in stored
    with Session(unmigrated_engine) as session:
        assert session.execute(select(Case.association, Case.consent_association)).one() == ("unison", True)
        # `case` was not rebuilt: what refers to it is still there.
        assert session.scalars(select(WelfareRecord.support_needed)).one() == CANARIES["support"]
        assert session.scalars(select(PlanPoint.na_reason)).one() == CANARIES["reason"]


@pytest.mark.postgres
def test_a_server_database_without_a_key_is_not_migrated() -> None:
    with postgres_schema() as engine:
        upgrade(engine, "0005_perf")
        keyless = reopen(engine, None)
        with pytest.raises(DataKeyError, match="HAMPSHIRE_DATA_KEY is not set"):
            upgrade(keyless)
        with keyless.connect() as connection:
            assert (
                connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0005_perf"
            )
        keyless.dispose()
