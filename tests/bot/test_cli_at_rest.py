"""The at-rest commands: `db rotate-key`, `db new-key`, `audit verify`, `export person`, a wrong key."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from store.crypto import Keyring, new_key, read_key_file
from store.db import make_engine, upgrade
from tests.bot.helpers import SUPERVISOR, VICTIM, report
from tests.bot.test_cli import _refused
from tests.conftest import POSTGRES_URL, TEST_DATA_KEY, FakeClock, make_runtime, postgres_schema


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite database named by HAMPSHIRE_DATABASE_URL, holding one reported case."""
    path = tmp_path / "cli.db"
    monkeypatch.setenv("HAMPSHIRE_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("HAMPSHIRE_DATA_KEY", raising=False)
    assert main(["db", "upgrade"]) == 0
    engine = make_engine(f"sqlite:///{path}")
    report(make_runtime(engine, FakeClock()))
    engine.dispose()
    return path


def test_new_key_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "new-key"]) == 0
    key = capsys.readouterr().out.strip()
    make_engine("sqlite://", data_key=key)  # accepted


def test_rotate_key_replaces_the_embedded_key_file(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = database.with_name("cli.db.key")
    old = read_key_file(key_file).keys
    capsys.readouterr()
    assert main(["db", "rotate-key"]) == 0
    said = capsys.readouterr().out
    assert "re-encrypted" in said and str(key_file) in said
    new = read_key_file(key_file).keys
    assert new != old and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert main(["export", "person", VICTIM]) == 0  # the data still opens
    assert "Broad Street" in capsys.readouterr().out
    # The keyed hash the patterns report groups by follows the new key.
    with sqlite3.connect(database) as connection:
        hashes = {row[0] for row in connection.execute('SELECT location_key FROM "case"')}
    assert hashes == {Keyring(new).keyed_hash("Broad Street")}


def test_rotate_key_under_the_environment_key_wants_new_then_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HAMPSHIRE_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    old, new = new_key(), new_key()
    monkeypatch.setenv("HAMPSHIRE_DATA_KEY", old)
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["db", "rotate-key"]) == 2
    assert "holds one key: put a new key before it" in _refused(capsys.readouterr())
    monkeypatch.setenv("HAMPSHIRE_DATA_KEY", f"{new},{old}")
    assert main(["db", "rotate-key"]) == 0
    assert "remove the others" in capsys.readouterr().out
    monkeypatch.setenv("HAMPSHIRE_DATA_KEY", new)
    assert main(["db", "upgrade"]) == 0
    monkeypatch.setenv("HAMPSHIRE_DATA_KEY", old)
    capsys.readouterr()
    assert main(["db", "upgrade"]) == 2
    assert "HAMPSHIRE_DATA_KEY does not open the encrypted data" in _refused(capsys.readouterr())


@pytest.mark.parametrize(
    "command", [["chat", "--as", VICTIM], ["db", "upgrade"], ["export", "person", VICTIM]]
)
def test_a_wrong_key_stops_start_up_in_one_line(
    database: Path, command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HAMPSHIRE_DATA_KEY", new_key())
    capsys.readouterr()
    assert main(command) == 2
    assert "does not open the encrypted data in this database" in _refused(capsys.readouterr())


def test_a_malformed_key_stops_start_up_in_one_line(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HAMPSHIRE_DATA_KEY", "not-a-key")
    capsys.readouterr()
    assert main(["db", "upgrade"]) == 2
    said = _refused(capsys.readouterr())
    assert "HAMPSHIRE_DATA_KEY is not a list of data keys" in said and "not-a-key" not in said


def test_audit_verify_says_ok_then_finds_tampering(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out.startswith("audit trail OK: ")
    with sqlite3.connect(database) as raw:
        raw.execute("UPDATE access_audit SET surface = 'slack' WHERE seq = 1")
    assert main(["audit", "verify"]) == 1
    said = capsys.readouterr().out
    assert said.startswith("audit trail BROKEN at row ") and "(sequence 1)" in said


def test_export_person_writes_json_readable_by_its_owner_alone(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "sar.json"
    created: list[int] = []
    real_open = os.open

    def opening(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        if str(path) == str(out) and flags & os.O_CREAT:
            created.append(mode)
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(os, "open", opening)
    assert main(["export", "person", SUPERVISOR, "--out", str(out)]) == 0
    monkeypatch.setattr(os, "open", real_open)
    assert created == [0o600]  # made private by the call that creates it, not narrowed afterwards
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["person"]["email"] == SUPERVISOR and exported["cases"][0]["your_part"] == ["reporter"]
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0  # the export's own audit rows are in the chain


def test_export_of_someone_unknown_is_one_line(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["export", "person", "nobody@example.police.uk"]) == 2
    assert "nobody with the work email nobody@example.police.uk" in _refused(capsys.readouterr())


@pytest.mark.postgres
def test_audit_verify_and_export_on_postgresql(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with postgres_schema() as engine:
        upgrade(engine)
        report(make_runtime(engine, FakeClock()))
        with engine.connect() as connection:
            schema = connection.exec_driver_sql("SHOW search_path").scalar()
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        monkeypatch.setenv("HAMPSHIRE_DATA_KEY", TEST_DATA_KEY)
        capsys.readouterr()
        assert main(["export", "person", VICTIM, "--db", url]) == 0
        assert json.loads(capsys.readouterr().out)["cases"][0]["location"] == "Broad Street"
        assert main(["audit", "verify", "--db", url]) == 0
        with engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM access_audit WHERE seq = 1")
        capsys.readouterr()
        assert main(["audit", "verify", "--db", url]) == 1
        assert "(sequence 2): rows before it are missing" in capsys.readouterr().out
        monkeypatch.delenv("HAMPSHIRE_DATA_KEY")
        assert main(["export", "person", VICTIM, "--db", url]) == 2
        assert "HAMPSHIRE_DATA_KEY is not set" in _refused(capsys.readouterr())
