"""Shared fixtures: a fixed clock, the bundled pack, real SQLite and PostgreSQL databases.

PostgreSQL is the server at 127.0.0.1:5432 (database `test`) or HAMPSHIRE_TEST_POSTGRES_URL. When
none is reachable its tests are skipped and the run says so loudly at the start and the end;
with HAMPSHIRE_REQUIRE_POSTGRES=1 (as CI sets) they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError

from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from dialogs.loader import load_pack
from dialogs.schema import Pack
from store.db import make_engine, one_statement_engine, upgrade
from tests.browser import chromium_banner
from tests.playground import node_banner

POSTGRES_URL = os.environ.get(
    "HAMPSHIRE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("HAMPSHIRE_REQUIRE_POSTGRES") == "1"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
#: The data key of the PostgreSQL test databases (SQLite ones keep a key file beside them).
TEST_DATA_KEY = "yF9yYk0s1eWq3o1m7lq4cU2n5Zs1Xy8vB6tR0pQ3wE4="


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@cache
def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except (OperationalError, ImportError) as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"


def _banner(problem: str) -> str:
    line = "!" * 78
    return (
        f"{line}\n!!  PostgreSQL NOT REACHABLE at {POSTGRES_URL}\n!!  {problem}\n"
        f"!!  Every PostgreSQL test is SKIPPED. Set HAMPSHIRE_TEST_POSTGRES_URL to run them.\n{line}"
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    problem = postgres_problem()
    lines = [f"postgresql: {POSTGRES_URL} reachable" if problem is None else _banner(problem)]
    lines.append(node_banner() or "node: the Agents Playground (local Teams client) is installed")
    lines.append(chromium_banner() or "chromium: the report's headless-browser test runs")
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    problem = postgres_problem()
    if problem is not None:
        terminalreporter.write_line(_banner(problem), red=True, bold=True)
    playground = node_banner()
    if playground is not None:
        terminalreporter.write_line(playground, red=True, bold=True)
    browser = chromium_banner()
    if browser is not None:
        terminalreporter.write_line(browser, red=True, bold=True)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def pack() -> Pack:
    return load_pack()


def turn_leases(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The reply lease each turn the runtime's router answers from now on was given (None: none)."""
    leases: list[Any] = []
    answer = runtime.router.answer

    def recording(inbound: Any, **options: Any) -> Any:
        leases.append(options.get("lease"))
        return answer(inbound, **options)

    monkeypatch.setattr(runtime.router, "answer", recording)
    return leases


def without_busy_timeout(engine: Engine) -> None:
    """SQLite connections of `engine` made from now on meet a lock at once ("database is locked")
    instead of waiting 30 s for it; the connections it has now are closed."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _no_busy_wait(dbapi_connection: object, record: object) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")  # type: ignore[attr-defined]

    engine.dispose()


def _sqlite_engine(tmp_path: Path) -> Engine:
    return make_engine(f"sqlite:///{tmp_path / 'hampshire.db'}")


@contextmanager
def listening(engine: Engine, name: str, listener: Callable[..., Any]) -> Iterator[None]:
    """`listener` on the event `name` of `engine` and of the engine its lone statements run on
    (`store.db.one_statement_engine`, the same one on SQLite) meanwhile."""
    engines = {engine, one_statement_engine(engine)}
    for each in engines:
        event.listen(each, name, listener)
    try:
        yield
    finally:
        for each in engines:
            event.remove(each, name, listener)


@contextmanager
def autocommit_of_statements(engine: Engine) -> Iterator[list[bool]]:
    """Whether each statement `engine` (or its twin) sends meanwhile runs in autocommit (psycopg
    then sends no `BEGIN` and `COMMIT` around it), in order."""
    seen: list[bool] = []

    def sent(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(connection.connection.dbapi_connection.autocommit)

    with listening(engine, "before_cursor_execute", sent):
        yield seen


@contextmanager
def postgres_schema() -> Iterator[Engine]:
    """An engine on a PostgreSQL schema of its own (not migrated), dropped afterwards."""
    problem = postgres_problem()
    if problem is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (HAMPSHIRE_REQUIRE_POSTGRES=1) but not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(
        POSTGRES_URL, data_key=TEST_DATA_KEY, connect_args={"options": f"-csearch_path={schema}"}
    )
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """A migrated PostgreSQL database in a schema of its own, dropped afterwards."""
    with postgres_schema() as engine:
        upgrade(engine)
        yield engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def unmigrated_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database, on SQLite and on PostgreSQL, for tests of the migrations themselves."""
    if request.param == "sqlite":
        engine = _sqlite_engine(tmp_path)
        yield engine
        engine.dispose()
    else:
        with postgres_schema() as engine:
            yield engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database: each test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        engine = _sqlite_engine(tmp_path)
        upgrade(engine)
        yield engine
        engine.dispose()
    else:
        yield request.getfixturevalue("postgres_engine")


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = _sqlite_engine(tmp_path)
    upgrade(engine)
    yield engine
    engine.dispose()


def make_runtime(engine: Engine, clock: FakeClock, pack_dir: Path | None = None) -> Runtime:
    """A runtime on an already-migrated engine."""
    return build_runtime(Settings(pack_dir=pack_dir), clock=clock, engine=engine, migrate=False)


@pytest.fixture
def runtime(engine: Engine, clock: FakeClock) -> Runtime:
    return make_runtime(engine, clock)


@pytest.fixture
def sqlite_runtime(sqlite_engine: Engine, clock: FakeClock) -> Runtime:
    return make_runtime(sqlite_engine, clock)
