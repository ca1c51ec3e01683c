"""Encryption at rest: no account of an assault readable in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from bot.conversation import RuntimePort
from bot.runtime import Runtime
from store.crypto import DataKeyError, Keyring, keyring_of, new_key, read_key_file
from store.db import key_file, make_engine, upgrade
from store.inbox import receive
from store.models import Base, Case, DialogStateRow, InboxItem, PlanPoint, WelfareRecord
from tests.bot.helpers import submit_report
from tests.channel import Conversation
from tests.conftest import START

#: Words that appear nowhere but in what the test tells the bot.
CANARIES = {
    "location": "Quokkaville Precinct",
    "injury": "zebrafinch bruising",
    "crime": "CRQX/778123/26",
    "how": "wombatlike shaken",
    "support": "platypus support call",
    "handover": "axolotl handover",
    "reason": "narwhal reason",
    "half": "capybara street",
    "inbox": "pangolin words",
}


def report_with_canaries(runtime: Runtime) -> str:
    """A case reported through the router whose every free-text answer is a canary."""
    answers = ["pc.amy.hart@example.police.uk", "yes", "officer", "2 hours ago", CANARIES["location"]]
    answers += ["coventry", "spitting", "no", "moderate", CANARIES["injury"], "hospital", "yes"]
    answers += ["no", CANARIES["crime"], "none", CANARIES["how"], CANARIES["support"], CANARIES["handover"]]
    reference = submit_report(runtime, [*answers, "yes", "yes"])  # the leaflet; the Federation told
    # A second report left half way: its answers sit in the dialog state.
    other = Conversation(RuntimePort(runtime), "sgt.kim.oduya@example.police.uk")
    for text in [
        "report assault",
        "pc.amy.hart@example.police.uk",
        "officer",
        "1 hour ago",
        CANARIES["half"],
    ]:
        other.say(text)
    return reference


def raw_dump(engine: Engine) -> str:
    """Every row of every table as stored, with no type decoding."""
    dumped = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if not inspect(connection).has_table(table.name):
                continue
            rows = connection.exec_driver_sql(f'SELECT * FROM "{table.name}"').all()
            dumped.append(repr(rows))
    return "\n".join(dumped)


def test_the_account_of_an_assault_is_not_in_the_database_as_written(runtime: Runtime) -> None:
    reference = report_with_canaries(runtime)
    with runtime.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        point = session.scalars(select(PlanPoint).where(PlanPoint.case_id == case.id)).first()
        assert point is not None
        point.na_reason = CANARIES["reason"]
        receive(
            session=session,
            source="slack",
            key="Ev0CANARY",
            payload={"event": {"text": CANARIES["inbox"]}},
            now=runtime.clock(),
            lease=timedelta(minutes=1),
        )
    with runtime.engine.connect() as connection:
        stored_association = connection.exec_driver_sql('SELECT association FROM "case"').scalar()
    assert stored_association is not None and "federation" not in stored_association
    dump = raw_dump(runtime.engine)
    assert reference in dump  # the dump is real: what is not secret is there as written
    for canary in CANARIES.values():
        assert canary not in dump
        assert canary.upper() not in dump
    # ... and the bot reads it all back.
    with runtime.sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        assert (case.location, case.injury_detail, case.crime_reference) == (
            CANARIES["location"],
            CANARIES["injury"],
            CANARIES["crime"].upper(),
        )
        # Trade-union membership is special-category data: the bot reads it, the database holds a token.
        assert case.association == "police_federation"
        welfare = session.scalar(select(WelfareRecord).where(WelfareRecord.case_id == case.id))
        assert welfare is not None
        assert (welfare.how_they_are, welfare.support_needed, welfare.duties_handover) == (
            CANARIES["how"],
            CANARIES["support"],
            CANARIES["handover"],
        )
        assert CANARIES["reason"] in session.scalars(select(PlanPoint.na_reason)).all()
        assert any(CANARIES["half"] in state for state in session.scalars(select(DialogStateRow.state)))
        assert session.scalars(select(InboxItem.payload)).one() == {"event": {"text": CANARIES["inbox"]}}


def test_the_sqlite_file_holds_no_canary_either(sqlite_runtime: Runtime, tmp_path: Path) -> None:
    report_with_canaries(sqlite_runtime)
    sqlite_runtime.engine.dispose()  # closing checkpoints the WAL; whatever is left, both files are read
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("hampshire.db*"))
    assert b"pc.amy.hart" in stored  # the file is read: people's emails are not encrypted
    for canary in CANARIES.values():
        assert canary.encode() not in stored


def test_the_embedded_database_keeps_its_key_beside_it_readable_by_its_owner_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    engine = make_engine(url)
    path = key_file(url)
    assert path == tmp_path / "bot.db.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = make_engine(url)  # the same key next time
    assert keyring_of(again).keys == keyring_of(engine).keys
    path.chmod(0o644)
    with pytest.raises(DataKeyError, match="may be read by others"):
        make_engine(url)


def test_a_key_that_is_not_a_key_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(DataKeyError, match="not a list of data keys") as refused:
        make_engine(f"sqlite:///{tmp_path / 'bot.db'}", data_key="hunter2")
    assert "\n" not in str(refused.value) and "hunter2" not in str(refused.value)


def test_a_server_database_without_a_key_cannot_touch_encrypted_columns() -> None:
    engine = make_engine("postgresql+psycopg://bot@db.example.police.uk/hampshire")
    with pytest.raises(DataKeyError, match="HAMPSHIRE_DATA_KEY is not set"):
        keyring_of(engine)


def test_a_keyring_reads_every_key_and_writes_with_the_first() -> None:
    old, new = new_key(), new_key()
    token = Keyring([old]).encrypt(b"x")
    both = Keyring([new, old])
    assert both.decrypt(token) == b"x"
    rotated = both.rotate(token)
    assert Keyring([new]).decrypt(rotated) == b"x"
    with pytest.raises(DataKeyError, match="does not open"):
        Keyring([old]).decrypt(rotated)


def test_a_key_file_is_created_once_even_when_read_twice(tmp_path: Path) -> None:
    path = tmp_path / "x.key"
    first = read_key_file(path)
    assert read_key_file(path).keys == first.keys and len(first.keys) == 1


def test_an_in_memory_database_works_with_a_key_of_its_own() -> None:
    engine = make_engine("sqlite://")
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            DialogStateRow.__table__.insert().values(key="k", state="{}", version=1, updated_at=START)
        )
    with engine.connect() as connection:
        assert connection.execute(select(DialogStateRow.state)).scalar() == "{}"
        assert connection.exec_driver_sql("SELECT state FROM dialog_state").scalar() != "{}"


# --- the keyed hash a report groups by --------------------------------------------------------------


def test_a_keyed_hash_matches_the_same_place_however_it_was_typed() -> None:
    keyring = Keyring([new_key()])
    broad = keyring.keyed_hash("Broad Street")
    assert keyring.keyed_hash("  broad   STREET\t") == broad
    assert keyring.keyed_hash("Broad Street, Coventry") != broad
    assert len(broad) == 64 and int(broad, 16) >= 0
    # Under another key the same place hashes otherwise: the hash is worthless without the key.
    assert Keyring([new_key()]).keyed_hash("Broad Street") != broad


def test_a_keyed_hash_is_derived_from_the_newest_key() -> None:
    old, new = new_key(), new_key()
    assert Keyring([new, old]).keyed_hash("Broad Street") == Keyring([new]).keyed_hash("Broad Street")
    assert Keyring([new, old]).keyed_hash("Broad Street") != Keyring([old]).keyed_hash("Broad Street")


def stored_location_keys(engine: Engine) -> dict[int, str | None]:
    with engine.connect() as connection:
        return {case_id: key for case_id, key in connection.execute(select(Case.id, Case.location_key))}


def test_every_write_of_a_location_writes_its_keyed_hash(runtime: Runtime) -> None:
    """Through the case service (the ORM), through Core, and when the ORM changes a location."""
    report_with_canaries(runtime)
    keyring = keyring_of(runtime.engine)
    with runtime.engine.begin() as connection:
        template = connection.execute(select(Case).limit(1)).mappings().one()
        copy = {k: v for k, v in template.items() if k not in ("id", "location_key")}
        copy |= {
            "reference": "OH-2026-9999",
            "submission_key": "core:1",
            "location": " QUOKKAVILLE  precinct",
        }
        connection.execute(Case.__table__.insert(), [copy])
    first, second = sorted(stored_location_keys(runtime.engine).items())
    assert first[1] == second[1] == keyring.keyed_hash(CANARIES["location"])
    with Session(runtime.engine) as session, session.begin():
        case = session.get(Case, first[0])
        assert case is not None
        case.location = "Broad Street"
        case.status = "closed"
    assert stored_location_keys(runtime.engine)[first[0]] == keyring.keyed_hash("broad street")
    with Session(runtime.engine) as session, session.begin():
        case = session.get(Case, second[0])
        assert case is not None
        case.status = "closed"  # an update that leaves the location alone leaves its hash alone
    assert stored_location_keys(runtime.engine)[second[0]] == keyring.keyed_hash(CANARIES["location"])
    assert CANARIES["location"].casefold() not in raw_dump(runtime.engine).casefold()
