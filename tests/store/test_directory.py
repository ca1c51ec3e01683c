"""The stored directory: upserts, removal of entries a pack dropped, verified flag."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from store.directory import all_entries, remove_entries, search_index, upsert_entries

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ENTRY = {
    "key": "peer_support",
    "name": "Peer support",
    "category": "wellbeing",
    "description": "Talk to a peer.",
    "phone": None,
    "email": "peers@example.police.uk",
    "web": None,
    "hours": None,
    "for_whom": "Everyone",
    "synonyms": ["peer"],
    "source": "test",
    "flags": {},
}


def test_upsert_writes_only_what_changed_and_sets_verified(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        assert upsert_entries(session=session, entries=[ENTRY], origin="import", now=NOW) == 1
        assert upsert_entries(session=session, entries=[ENTRY], origin="import", now=NOW) == 0
        flagged = {**ENTRY, "flags": {"email": "bounced"}}
        assert upsert_entries(session=session, entries=[flagged], origin="import", now=NOW) == 1
        [entry] = all_entries(session=session)
        assert not entry.verified and entry.flags == {"email": "bounced"}


def test_entries_a_pack_dropped_are_removed_but_imports_stay(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        upsert_entries(session=session, entries=[ENTRY], origin="import", now=NOW)
        upsert_entries(session=session, entries=[{**ENTRY, "key": "old"}], origin="pack", now=NOW)
        assert remove_entries(session=session, origin="pack", keep=[]) == 1
        assert [e.key for e in all_entries(session=session)] == ["peer_support"]


CATEGORIES = {"wellbeing": ["Counselling and wellbeing"]}


def _search(engine: Engine, query: str) -> list[str]:
    with Session(engine) as session, session.begin():
        return [r.key for r in search_index(session=session, categories=CATEGORIES).search(query)]


def test_the_search_index_follows_imports_updates_and_removals(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        upsert_entries(session=session, entries=[ENTRY], origin="pack", now=NOW)
    assert _search(engine, "peer") == ["peer_support"]
    with Session(engine) as session, session.begin():  # same clock: only the revision says it changed
        upsert_entries(session=session, entries=[{**ENTRY, "synonyms": ["mentor"]}], origin="pack", now=NOW)
        upsert_entries(
            session=session,
            entries=[{**ENTRY, "key": "chaplain", "name": "Chaplain"}],
            origin="import",
            now=NOW,
        )
    assert _search(engine, "mentor") == ["peer_support"]
    assert _search(engine, "chaplain") == ["chaplain"]
    with Session(engine) as session, session.begin():
        remove_entries(session=session, origin="pack", keep=[])
    assert _search(engine, "mentor") == []
    assert _search(engine, "chaplain") == ["chaplain"]


def test_a_write_rolled_back_leaves_the_index_as_it_was(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        upsert_entries(session=session, entries=[ENTRY], origin="import", now=NOW)
    with Session(engine) as session:
        session.begin()
        upsert_entries(session=session, entries=[{**ENTRY, "synonyms": ["mentor"]}], origin="import", now=NOW)
        assert [r.key for r in search_index(session=session, categories=CATEGORIES).search("mentor")] == [
            "peer_support"
        ]
        session.rollback()
    assert _search(engine, "mentor") == []
    assert _search(engine, "peer") == ["peer_support"]


def test_an_unchanged_directory_reuses_its_index(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        upsert_entries(session=session, entries=[ENTRY], origin="import", now=NOW)
    with Session(engine) as session, session.begin():
        first = search_index(session=session, categories=CATEGORIES)
    with Session(engine) as session, session.begin():
        assert search_index(session=session, categories=CATEGORIES) is first
        assert upsert_entries(session=session, entries=[ENTRY], origin="import", now=NOW) == 0
        assert search_index(session=session, categories=CATEGORIES) is first
