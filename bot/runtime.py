"""Building the running bot from settings: pack, database (migrated), directory, router."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, system_clock
from bot.router import Router
from bot.settings import Settings, revealed
from dialogs.directory import entry_record
from dialogs.loader import load_pack
from dialogs.schema import Pack
from store.crypto import keyring_of
from store.data_key import check_data_key
from store.db import default_database_url, make_engine, make_sessions, upgrade
from store.directory import remove_entries, upsert_entries
from store.revisions import is_at_head

__all__ = ["Runtime", "build_runtime", "sync_directory"]


@dataclass
class Runtime:
    """The parts of a running bot, built once at start-up and passed to the adapters."""

    settings: Settings
    pack: Pack
    engine: Engine
    sessions: sessionmaker[Session]
    router: Router
    clock: Clock


def sync_directory(pack: Pack, *, session: Session, now: datetime) -> None:
    """Bring the stored directory in line with the pack's (imported entries are left alone)."""
    records = [entry_record(spec) for spec in pack.directory.entries]
    upsert_entries(session=session, entries=records, origin="pack", now=now)
    remove_entries(session=session, origin="pack", keep=[r["key"] for r in records])


def build_runtime(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    database_url: str | None = None,
    engine: Engine | None = None,
    migrate: bool = True,
    pack: Pack | None = None,
) -> Runtime:
    """Load the pack, open (and migrate) the database, sync the directory and make the router.

    Args:
        database_url: overrides the settings' database (`--db`).
        engine: an engine to use instead of opening one (tests pass their own).
        migrate: apply migrations first (`chat` and `serve` always do), unless the database is
            already at head.

    Raises:
        DataKeyError: the engine has no data key, or one that does not open the database's data.
        pack: the settings' pack, when the caller has loaded it already.
    """
    if pack is None:
        pack = load_pack(settings.pack_dir)
    if engine is None:
        engine = make_engine(
            database_url or settings.database_url or default_database_url(),
            data_key=revealed(settings.data_key),
        )
    keyring_of(engine)  # no key: refuse before migrating anything
    if migrate and not is_at_head(engine):
        upgrade(engine)
    check_data_key(engine)
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        sync_directory(pack, session=session, now=clock())
    router = Router(pack=pack, sessions=sessions, clock=clock)
    return Runtime(settings, pack, engine, sessions, router, clock)
