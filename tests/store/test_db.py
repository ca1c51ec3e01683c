"""Migrations, connection settings and time storage, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, exc, inspect, make_url, select

from store.db import (
    SERVER_CONNECTION_DEFAULTS,
    database_location,
    make_engine,
    make_sessions,
    one_statement_engine,
    one_statement_sessions,
    upgrade,
)
from store.models import Base, Person
from tests.black_hole import BlackHole
from tests.conftest import POSTGRES_URL, TEST_DATA_KEY, without_busy_timeout


def test_migrations_create_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []
    assert "plan_point" in inspect(engine).get_table_names()


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    upgrade(engine)


def test_the_sweep_index_exists(engine: Engine) -> None:
    indexes = {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("plan_point")}
    assert indexes["ix_plan_point_status_next_nudge_at"] == ["status", "next_nudge_at"]


def test_times_come_back_aware_and_in_utc(engine: Engine) -> None:
    sessions = make_sessions(engine)
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    with sessions.begin() as session:
        session.add(Person(email="pc.amy.hart@example.police.uk", created_at=summer))
    with sessions.begin() as session:
        stored = session.scalar(select(Person.created_at))
    assert stored == datetime(2026, 7, 1, 11, 0, tzinfo=UTC)
    assert stored is not None and stored.tzinfo is not None


def test_naive_times_are_refused(engine: Engine) -> None:
    sessions = make_sessions(engine)
    with pytest.raises(Exception, match="naive"), sessions.begin() as session:
        session.add(Person(email="x@example.police.uk", created_at=datetime(2026, 1, 1)))
        session.flush()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_location_shown_is_the_sqlite_file_or_the_url_without_its_password(tmp_path: Path) -> None:
    assert database_location(f"sqlite:///{tmp_path / 'bot.db'}") == str(tmp_path / "bot.db")
    assert database_location("sqlite://") == ":memory:"
    shown = database_location("postgresql+psycopg://bot:s3cret@db.example.police.uk/hampshire")
    assert shown == "postgresql+psycopg://bot:***@db.example.police.uk/hampshire"


def test_a_read_only_engine_reads_while_another_connection_writes(tmp_path: Path) -> None:
    """SQLite: a report's transaction (READ_ONLY) takes no write lock, so the bot keeps writing."""
    import sqlite3

    from sqlalchemy import text as sql_text

    from store.db import READ_ONLY

    path = tmp_path / "bot.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    writer = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the bot, mid-write
    try:
        with engine.execution_options(**{READ_ONLY: True}).begin() as connection:
            assert connection.execute(sql_text('SELECT count(*) FROM "case"')).scalar() == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        engine.dispose()


# --- SQLite: an engine's writers take turns in the process ------------------------------------


def _impatient_engine(path: Path) -> tuple[Engine, Any]:
    """A SQLite engine whose connections do not wait for SQLite's lock at all (busy timeout 0),
    and its write turns: any wait a test sees is a wait for the turn."""
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{path}")
    without_busy_timeout(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS said (word TEXT)"))
        turns = connection.connection.dbapi_connection.turns
    return engine, turns


def _said(engine: Engine) -> list[str]:
    from sqlalchemy import text

    with engine.connect() as connection:
        return sorted(connection.execute(text("SELECT word FROM said")).scalars())


def test_a_second_writer_waits_for_its_turn_instead_of_failing_on_the_lock(tmp_path: Path) -> None:
    """With no busy timeout, SQLite would refuse the second writer ("database is locked") at once:
    it waits for the first to commit instead, and both writes are kept."""
    import threading

    from sqlalchemy import text

    engine, turns = _impatient_engine(tmp_path / "bot.db")
    failures: list[BaseException] = []

    def second() -> None:
        try:
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO said VALUES ('second')"))
        except BaseException as error:
            failures.append(error)

    with engine.begin() as connection:
        connection.execute(text("INSERT INTO said VALUES ('first')"))
        waiter = threading.Thread(target=second)
        waiter.start()
        with turns.changed:  # until the second writer waits for its turn (or has failed)
            turns.changed.wait_for(lambda: turns.waiting or not waiter.is_alive(), timeout=10)
        assert turns.waiting == 1, failures
    waiter.join(10)
    assert not waiter.is_alive()
    assert failures == []
    assert _said(engine) == ["first", "second"]
    engine.dispose()


def test_a_write_that_fails_or_rolls_back_gives_its_turn_back(tmp_path: Path) -> None:
    import sqlite3

    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    engine, turns = _impatient_engine(tmp_path / "bot.db")
    turns.timeout = 0  # a turn not given back fails the next write at once, not after 30 s
    with pytest.raises(RuntimeError), engine.begin() as connection:
        connection.execute(text("INSERT INTO said VALUES ('rolled back')"))
        raise RuntimeError("the turn failed")
    other_process = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")  # a CLI command beside the server, mid-write
    with pytest.raises(OperationalError, match="locked"), engine.begin() as connection:
        connection.execute(text("INSERT INTO said VALUES ('refused')"))
    other_process.execute("ROLLBACK")
    other_process.close()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO said VALUES ('kept')"))
    assert _said(engine) == ["kept"]
    engine.dispose()


def test_a_reader_takes_no_turn(tmp_path: Path) -> None:
    import threading

    from sqlalchemy import text

    from store.db import READ_ONLY

    engine, turns = _impatient_engine(tmp_path / "bot.db")
    turns.timeout = 0
    done: list[str] = []

    def write() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO said VALUES ('written')"))
        done.append("written")

    with engine.execution_options(**{READ_ONLY: True}).begin() as connection:
        connection.execute(text("SELECT count(*) FROM said")).scalar()
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(10)
    assert done == ["written"]
    engine.dispose()


# --- PostgreSQL: a pooled connection is pinged only after it has been idle ---------------------


def _counting_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


@pytest.mark.postgres
def test_a_connection_in_steady_use_is_not_pinged_at_every_checkout(
    postgres_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ping is a round trip per transaction: only a connection idle a while is pinged."""
    from sqlalchemy import text

    pings = _counting_pings(postgres_engine, monkeypatch)
    for _ in range(5):
        with postgres_engine.begin() as connection:
            connection.execute(text("SELECT 1"))
    assert pings == []


@pytest.mark.postgres
def test_an_idle_connection_the_server_dropped_is_replaced_before_it_is_used(
    postgres_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server restarted (here: the connection's backend is terminated) while the connection
    sat in the pool: the next transaction pings it, finds it dead and runs on a fresh one."""
    from sqlalchemy import create_engine, text

    import store.db

    with postgres_engine.connect() as connection:
        dropped = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": dropped}).scalar()
    admin.dispose()
    monkeypatch.setattr(store.db, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has been idle long enough
    pings = _counting_pings(postgres_engine, monkeypatch)
    with postgres_engine.begin() as connection:
        now = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    assert now != dropped
    assert pings  # found dead by the ping, not by the transaction failing


@pytest.mark.postgres
def test_a_lone_statement_commits_by_itself_on_postgresql_and_the_engines_own_connections_never_switch(
    postgres_engine: Engine,
) -> None:
    """No `BEGIN` or `COMMIT` round trip around one statement: what it wrote is committed as it
    returns (another connection reads it before the session ends). It runs on the engine's
    autocommit twin, whose own pool is set to autocommit once: the engine's connections are never
    switched (the next user has a transaction: its rollback undoes its write), and the twin is
    disposed of with the engine."""
    from sqlalchemy import event

    sessions = make_sessions(postgres_engine)
    lone = one_statement_sessions(sessions)
    now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    amy, ben = "pc.amy.hart@example.police.uk", "pc.ben.cole@example.police.uk"
    given_back: list[bool] = []

    def checked_in(dbapi_connection: Any, record: Any) -> None:  # after the pool's reset
        given_back.append(dbapi_connection.autocommit)

    event.listen(postgres_engine, "checkin", checked_in)
    try:
        with lone.begin() as session:
            session.add(Person(email=amy, created_at=now))
            session.flush()
            assert session.connection().connection.dbapi_connection.autocommit  # type: ignore[union-attr]
            with sessions() as other:
                assert other.scalar(select(Person.email).where(Person.email == amy)) == amy
    finally:
        event.remove(postgres_engine, "checkin", checked_in)
    assert given_back == [False]  # the reader's: the lone statement's connection is the twin's
    with sessions() as session:
        assert not session.connection().connection.dbapi_connection.autocommit  # type: ignore[union-attr]
        session.add(Person(email=ben, created_at=now))
        session.flush()
        session.rollback()
    with sessions() as session:
        assert set(session.scalars(select(Person.email))) == {amy}
    twin = lone.kw["bind"]
    assert twin is not postgres_engine and one_statement_sessions(sessions).kw["bind"] is twin
    pool = twin.pool
    assert pool.checkedin() == 1
    postgres_engine.dispose()
    assert pool.checkedin() == 0  # its connection closed


def test_sqlite_keeps_its_transactions_for_a_lone_statement(sqlite_engine: Engine) -> None:
    """Its write lock is taken by `BEGIN IMMEDIATE`, and a statement there is no round trip."""
    sessions = make_sessions(sqlite_engine)
    assert one_statement_sessions(sessions) is sessions


def _connection_settings(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return dict(connection.connection.dbapi_connection.info.get_parameters())  # type: ignore[union-attr]


def _settings_of_a_new_engine(url: str) -> dict[str, str]:
    """The connection settings of an engine made for `url` as the bot makes it, then disposed of."""
    engine = make_engine(url, data_key=TEST_DATA_KEY)
    try:
        return _connection_settings(engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_postgresql_connection_gives_up_on_a_silent_server_and_the_urls_own_settings_win(
    postgres_engine: Engine,
) -> None:
    """psycopg waits 130 s to connect, and a connection whose server vanished without closing it
    waits out the kernel's retransmissions: every connection, the autocommit twin's too, is made
    with a connect timeout, keepalives and a bound on unacknowledged data, beside the options the
    caller gave (here the test's schema). A setting in the URL's query is the URL's."""
    expected = {name: str(value) for name, value in SERVER_CONNECTION_DEFAULTS.items()}
    for engine in (postgres_engine, one_statement_engine(postgres_engine)):
        settings = _connection_settings(engine)
        assert {name: settings.get(name) for name in expected} == expected
        assert settings["options"].startswith("-csearch_path=")
    url = make_url(POSTGRES_URL).update_query_dict({"connect_timeout": "3", "tcp_user_timeout": "5000"})
    settings = _settings_of_a_new_engine(url.render_as_string(hide_password=False))
    assert (settings["connect_timeout"], settings["tcp_user_timeout"]) == ("3", "5000")
    assert settings["keepalives_idle"] == expected["keepalives_idle"]


def test_connecting_to_a_postgresql_server_that_accepts_and_never_answers_fails_instead_of_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A listener that completes the TCP handshake and says nothing (a server hung, a black-holed
    proxy): the connection fails with the database's error, which the router, the inbox and the
    outbox answer as an outage, where before it waited 130 s. No PostgreSQL server is needed."""
    monkeypatch.setitem(SERVER_CONNECTION_DEFAULTS, "connect_timeout", 2)  # the least libpq and psycopg take
    failures: list[BaseException] = []
    silent = BlackHole()
    engine = make_engine(f"postgresql+psycopg://bot@127.0.0.1:{silent.port}/hampshire")

    def connect() -> None:
        try:
            engine.connect().close()
        except BaseException as error:  # noqa: BLE001 - the test reports whatever it was
            failures.append(error)

    attempt = threading.Thread(target=connect, daemon=True)
    try:
        attempt.start()
        attempt.join(timeout=60)  # a bound on a hang, not a timing: it gives up after two seconds
        assert silent.connected.wait(timeout=60) and not attempt.is_alive()
    finally:
        engine.dispose()
        silent.close()
    assert len(failures) == 1 and isinstance(failures[0], exc.OperationalError)


@pytest.mark.postgres
def test_a_connect_timeout_in_the_environment_stands_over_the_default(
    postgres_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`PGCONNECT_TIMEOUT` is the operator's, as libpq reads it; an explicit default would hide it."""
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "4")
    settings = _settings_of_a_new_engine(POSTGRES_URL)
    assert settings["connect_timeout"] == "4"
    assert settings["tcp_user_timeout"] == str(SERVER_CONNECTION_DEFAULTS["tcp_user_timeout"])


@pytest.mark.parametrize(
    ("url", "environment"),
    [
        ("postgresql+pg8000://bot@db.example.police.uk/hampshire", {}),  # not libpq: no such settings
        ("postgresql+psycopg://bot@/hampshire?service=hampshire", {}),
        ("postgresql+psycopg://bot@db.example.police.uk/hampshire", {"PGSERVICE": "hampshire"}),
    ],
)
def test_no_default_is_given_to_a_driver_without_libpq_or_over_a_service_entry(
    url: str, environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service entry may set any of the settings, and explicit ones would override it."""
    from store.db import _server_connect_args

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    given = {"application_name": "hampshire"}
    assert _server_connect_args(make_url(url), given) == given
