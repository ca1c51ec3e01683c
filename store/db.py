"""Database connections and migrations.

SQLite is the embedded default: a file in the user's data folder, in WAL mode with a busy timeout,
and every transaction begun with `BEGIN IMMEDIATE` so that a turn that reads then writes waits for
the lock instead of failing. An engine's own writers also take turns in the process (`_WriteTurns`):
SQLite's busy handler sleeps between retries (1 ms, then 2, 5, 10 ... up to 100 ms), so under load
a writer that has waited once keeps oversleeping, and can wait hundreds of milliseconds for a lock
held a millisecond at a time, while a writer waiting its turn here is let in the moment the other
commits. Other processes (a CLI command beside the server) still meet the busy timeout.
PostgreSQL (any SQLAlchemy URL) is the production database; its connections give up on a server
that goes silent (`SERVER_CONNECTION_DEFAULTS`).

Every engine carries its data key (`store.crypto`): `HAMPSHIRE_DATA_KEY` when given, else for a
SQLite file the 0600 key file beside it (created on first use). A server database has no default
key: it opens, but encrypted columns cannot be read or written and start-up refuses.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platformdirs import user_data_dir
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from store.crypto import Keyring, attach_keyring, key_file_for, keyring_if_any, new_key, read_key_file

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "READ_ONLY",
    "SERVER_CONNECTION_DEFAULTS",
    "database_location",
    "default_database_url",
    "key_file",
    "make_engine",
    "make_sessions",
    "one_statement_engine",
    "one_statement_sessions",
    "upgrade",
]

#: The execution option of an engine whose transactions only read (SQLite then takes no write lock).
READ_ONLY = "hampshire_read_only"

_MIGRATIONS = Path(__file__).parent / "migrations"
#: Seconds a writer waits for SQLite's lock before giving up.
_SQLITE_BUSY_SECONDS = 30
#: A server connection back in the pool for longer than this is pinged before it is used again.
PING_AFTER_IDLE_SECONDS = 10.0
#: libpq's settings for a PostgreSQL server that goes silent, beneath any the operator made (see
#: `_server_connect_args`). By default psycopg waits 130 s to connect to a server that accepted and
#: says nothing (libpq alone, for ever), and a connection whose server vanished without closing it
#: (a network path lost, a failover that moved the address) waits out the kernel's
#: retransmissions, about fifteen minutes: each holds a thread and a pool's connection, and a
#: Slack acknowledgement waiting on it is retried by Slack meanwhile.
SERVER_CONNECTION_DEFAULTS: dict[str, int] = {
    "connect_timeout": 10,  # seconds, for each address the host name has
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,  # milliseconds (Linux); it also ends the keepalive probes' wait
}
#: The drivers that hand their connection settings to libpq.
_LIBPQ_DRIVERS = frozenset({"psycopg", "psycopg2"})


def default_database_url() -> str:
    """A SQLite file in the user data directory (created if missing)."""
    folder = Path(user_data_dir("op-hampshire-bot", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'hampshire.db'}"


def database_location(url: str | URL) -> str:
    """Where a database's data lives, safe to show: a SQLite file's path, else the URL without a password."""
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        return str(Path(url.database).resolve()) if url.database not in (None, "", ":memory:") else ":memory:"
    return url.render_as_string(hide_password=True)


def key_file(url: str | URL) -> Path | None:
    """The data key file of a SQLite file database (None for a server or an in-memory database)."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return key_file_for(Path(url.database))


def _keyring(url: URL, data_key: str | None) -> Keyring | None:
    """The engine's keyring: the given key(s), else a SQLite database's own (None: no key)."""
    if data_key:
        return Keyring.parse(data_key)
    if url.get_backend_name() != "sqlite":
        return None
    path = key_file(url)
    if path is None:  # in memory: the data dies with the process, and so may its key
        return Keyring([new_key()], source="the in-memory database's key")
    if not path.parent.is_dir():
        return None  # no folder, so no database either: opening it says so
    return read_key_file(path)


def make_engine(url: str, *, data_key: str | None = None, **options: Any) -> Engine:
    """An engine for `url`, with SQLite tuned for a chat bot (WAL, busy timeout, immediate writes).

    Args:
        data_key: `HAMPSHIRE_DATA_KEY` (keys comma-separated, newest first); without it a SQLite
            file uses the key file beside it.

    Raises:
        DataKeyError: the key is malformed, or the key file cannot be used.
    """
    parsed = make_url(url)
    keyring = _keyring(parsed, data_key)
    engine = _engine(parsed, url, dict(options))
    if keyring is not None:
        attach_keyring(engine, keyring)
    if parsed.get_backend_name() != "sqlite":
        _TWINS[engine] = _Twin(url, options)
    return engine


class _Twin:
    """A server engine's autocommit twin (`one_statement_sessions`): the same database and options,
    its own pool of connections set to autocommit once, as they connect. Made on first use, with
    the engine's keyring as it is then; disposed of with the engine. Listeners on the engine are
    not the twin's (`one_statement_engine` names it to listen on both)."""

    def __init__(self, url: str, options: dict[str, Any]) -> None:
        self._url, self._options = url, options
        self._lock = threading.Lock()
        self.engine: Engine | None = None

    def get(self, engine: Engine) -> Engine:
        """The twin of `engine` (which this twin was made for), made the first time."""
        with self._lock:
            if self.engine is None:
                options = {**self._options, "isolation_level": "AUTOCOMMIT"}
                self.engine = _engine(make_url(self._url), self._url, options)
                keyring = keyring_if_any(engine)
                if keyring is not None:
                    attach_keyring(self.engine, keyring)
                event.listen(engine, "engine_disposed", self._dispose)
            return self.engine

    def _dispose(self, engine: Engine) -> None:
        # Also on `dispose(close=False)`, the call a forked child makes: nothing here forks.
        with self._lock:
            if self.engine is not None:
                self.engine.dispose()


#: Each server engine's autocommit twin (`one_statement_sessions`), by engine.
_TWINS: weakref.WeakKeyDictionary[Engine, _Twin] = weakref.WeakKeyDictionary()


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled server connection before use only when it has been idle a while.

    SQLAlchemy's `pool_pre_ping` pings at every checkout: a round trip to the server for every
    transaction, about a fifth of a message's round trips on PostgreSQL. A connection that was in
    use seconds ago is not pinged; one idle longer (the server may have restarted meanwhile) is,
    and a dead one is replaced before anyone uses it (the pool's checkout event may raise
    `DisconnectionError`). What pre-ping would catch and this does not: a connection that died
    within 10 s of its last use (the server restarting, a proxy dropping it) is handed out and
    its first statement fails. That fails as a server lost mid-transaction does: SQLAlchemy
    retires every connection older than the failure, the router runs the turn again, and the
    inbox and the outbox try their work again later.
    """

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _fresh_or_back(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()  # a connection just made needs no ping

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        # As pre-ping does: a dead connection retires the whole pool (the server went away), and
        # the pool connects afresh before handing a connection out.
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError() from error
            raise
        if not alive:
            raise exc.InvalidatePoolError()


class _WriteTurns:
    """One engine's SQLite writers, one at a time: the next is let in as the last commits.

    Waiting gives up after the busy timeout, as SQLite's own wait would ("database is locked").
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        #: Notified as writers start and stop waiting (`waiting`), so a watcher need not poll.
        self.changed = threading.Condition()
        #: Writers waiting for their turn now.
        self.waiting = 0

    def _count(self, step: int) -> None:
        with self.changed:
            self.waiting += step
            self.changed.notify_all()

    def take(self) -> bool:
        """Wait for the turn to write; False when the busy timeout ran out first."""
        self._count(1)
        try:
            return self._lock.acquire(timeout=self.timeout)
        finally:
            self._count(-1)

    def give_back(self) -> None:
        """End the turn (the transaction has committed or rolled back)."""
        self._lock.release()


class _TurnTakingConnection(sqlite3.Connection):
    """A SQLite file connection that gives its engine's write turn back as its transaction ends.

    A connection is used by one thread at a time (the pool hands it out), so the turn it holds
    is that thread's.
    """

    turns: _WriteTurns  # set on each engine's own subclass
    _writing = False

    def take_turn(self) -> bool:
        """Wait for the engine's write turn; False when the busy timeout ran out first."""
        self._writing = self.turns.take()
        return self._writing

    def end_turn(self) -> None:
        """Give the turn back, if this connection holds it."""
        if self._writing:
            self._writing = False
            self.turns.give_back()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.end_turn()


def _begin_writing(connection: Any) -> None:
    """`BEGIN IMMEDIATE`, after the engine's write turn when it has them (a file database).

    Through SQLAlchemy, so that a failure (SQLite's lock held by another process past the busy
    timeout) is its `OperationalError`, which callers retry or answer with "try again".
    """
    dbapi_connection = connection.connection.dbapi_connection
    turns = dbapi_connection if isinstance(dbapi_connection, _TurnTakingConnection) else None
    if turns is not None and not turns.take_turn():
        locked = sqlite3.OperationalError("database is locked (waiting for another writer)")
        raise exc.OperationalError("BEGIN IMMEDIATE", None, locked)
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        if turns is not None:
            turns.end_turn()
        raise


def _server_connect_args(parsed: URL, given: dict[str, Any]) -> dict[str, Any]:
    """`given`, above `SERVER_CONNECTION_DEFAULTS` when the driver is libpq's.

    A setting the operator made stands, as libpq would have it: one in the URL's query, a
    `PGCONNECT_TIMEOUT`, and a service (`?service=`, `PGSERVICE`), whose entry may set any of them.
    Explicit settings would override the last two, so the defaults step aside.
    """
    if (
        parsed.get_backend_name() != "postgresql"
        or parsed.get_driver_name() not in _LIBPQ_DRIVERS
        or "service" in parsed.query
        or "PGSERVICE" in os.environ
    ):
        return given
    defaults = {name: value for name, value in SERVER_CONNECTION_DEFAULTS.items() if name not in parsed.query}
    if "PGCONNECT_TIMEOUT" in os.environ:
        defaults.pop("connect_timeout", None)
    return {**defaults, **given}


def _engine(parsed: URL, url: str, options: dict[str, Any]) -> Engine:
    # Statement parameters hold what people told the bot: keep them out of exception messages.
    options.setdefault("hide_parameters", True)
    if parsed.get_backend_name() != "sqlite":
        options["connect_args"] = _server_connect_args(parsed, options.get("connect_args", {}))
        engine = create_engine(url, **options)
        _ping_when_idle(engine)
        return engine
    memory = parsed.database in (None, "", ":memory:")
    connect_args: dict[str, Any] = {"timeout": _SQLITE_BUSY_SECONDS, "check_same_thread": False}
    if memory:
        # One connection shared by every thread: no turns, which belong to a connection's user.
        options.setdefault("poolclass", StaticPool)
    else:
        # Each engine its own connection class, so its connections share its turns and no other's.
        turns = _WriteTurns(_SQLITE_BUSY_SECONDS)
        connect_args["factory"] = type("EngineConnection", (_TurnTakingConnection,), {"turns": turns})
    engine = create_engine(url, connect_args=connect_args, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # Take transaction control from pysqlite so that `begin` below can say IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A reader (a report: seconds over a big history) must not hold the write lock meanwhile.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN DEFERRED")
        else:
            _begin_writing(connection)

    return engine


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """The session factory the router and the CLI use (objects stay readable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)


def one_statement_sessions(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """`sessions` for work that is a single statement, which commits by itself on a server database.

    On PostgreSQL a transaction costs two round trips besides its statements (psycopg sends `BEGIN`
    before the first and waits for it, then `COMMIT`); a lone statement is atomic without them, so
    these sessions run in autocommit. Only for one statement: two would commit one by one. SQLite's
    sessions are returned as they are: its write lock is taken by the `BEGIN IMMEDIATE` that
    `make_engine` issues, and a statement there is a call, not a round trip.

    An engine from `make_engine` has an autocommit twin with a pool of its own, whose connections
    are set to autocommit once: switching a shared pool's connection at every checkout and back at
    every return (SQLAlchemy's `isolation_level` execution option) cost more CPU than the two round
    trips it saved. Another engine gets that execution option.
    """
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine) or bind.dialect.name == "sqlite":
        return sessions
    options = {name: value for name, value in sessions.kw.items() if name != "bind"}
    return sessionmaker(one_statement_engine(bind), **options)


def one_statement_engine(engine: Engine) -> Engine:
    """The engine `one_statement_sessions` runs `engine`'s lone statements on: its autocommit twin
    (one from `make_engine`), `engine` in autocommit (another), or `engine` itself (SQLite)."""
    if engine.dialect.name == "sqlite":
        return engine
    twin = _TWINS.get(engine)
    if twin is None:
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return twin.get(engine)


def _alembic_config(engine: Engine) -> Config:
    # Alembic is imported here, not at the top: a start-up whose database is already at head
    # (`store.revisions.is_at_head`) never needs it, and importing it costs more than the check.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    # Alembic's config is a ConfigParser: a `%` in the URL (a percent-encoded password or option)
    # would be read as interpolation.
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to `revision` on the engine's database."""
    from alembic import command

    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
